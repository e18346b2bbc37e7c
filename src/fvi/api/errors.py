"""One error shape for every route: ``{"detail": "<what went wrong, naming the id or field>"}``.

Unknown entity -> 404 naming the id; malformed input -> 422 naming the field (FastAPI's error list
is kept under ``errors``); warehouse down -> 503; anything unexpected -> 500 with a trace id and
nothing else (no stack trace, no SQL: see ``fvi.api.middleware``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fvi.warehouse import WarehouseUnavailable

log = logging.getLogger(__name__)


class NotFound(LookupError):
    """A resource the client named does not exist; the message names it."""


class Unavailable(RuntimeError):
    """A dependency of this route is down or not built; the message says which (answers 503)."""


def public_reason(exc: WarehouseUnavailable) -> str:
    """The outage reason without hosts, ports, paths or driver text."""
    msg = str(exc)
    if msg.startswith("PostgreSQL at"):
        return "PostgreSQL unreachable"
    if msg.startswith("no warehouse at"):
        return "no warehouse built yet: run `fvi run`"
    return msg


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "request"


def validation_detail(errors: list[dict[str, Any]]) -> str:
    """``query.limit: Input should be less than or equal to 500; body.entity_id: Field required``."""
    parts = [f"{_loc(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5]]
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "invalid request: " + "; ".join(parts) + more


def _errors_public(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FastAPI's list without echoing the input back (it may be large or sensitive)."""
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]


def unprocessable(field: str, message: str) -> JSONResponse:
    """A 422 raised by route logic (a value valid in type but not in meaning)."""
    errors = [{"loc": field.split("."), "msg": message, "type": "value_error"}]
    return JSONResponse(status_code=422, content={"detail": f"invalid request: {field}: {message}", "errors": errors})


class InvalidField(ValueError):
    """A value the schema accepts but the registry does not (unknown persona, pillar, metric)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            status_code=422, content={"detail": validation_detail(errors), "errors": _errors_public(errors)}
        )

    @app.exception_handler(InvalidField)
    async def _invalid(_request: Request, exc: InvalidField) -> JSONResponse:
        return unprocessable(exc.field, exc.message)

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(WarehouseUnavailable)
    async def _warehouse(_request: Request, exc: WarehouseUnavailable) -> JSONResponse:
        log.warning("warehouse unavailable: %s", exc)
        return JSONResponse(
            status_code=503,
            content={"detail": f"warehouse unavailable: {public_reason(exc)}"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Unavailable)
    async def _unavailable(_request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)}, headers={"Retry-After": "5"})
