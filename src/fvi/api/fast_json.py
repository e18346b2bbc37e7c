"""JSON bodies made with orjson, for the routes where serialisation is a large share of the cost.

A route that returns :class:`FastJSON` skips FastAPI's response-model validation and encoding (its
``response_model`` still documents the shape); use it only where the value is known to have that
shape already: a prediction's ``as_dict()``, or bytes the first answer made through the model
(:func:`model_json`). NaN and infinities become ``null``, as pydantic writes them.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import TypeAdapter
from starlette.responses import Response

OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=OPTIONS)


class FastJSON(Response):
    """``application/json`` from a value (orjson) or from bytes that already are JSON."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else dumps(content)


_adapters: dict[Any, TypeAdapter[Any]] = {}


def model_json(model: Any, value: Any) -> bytes:
    """``value`` validated as ``model`` and written as FastAPI would answer it (aliases, defaults, extras dropped)."""
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(model)
    return adapter.dump_json(adapter.validate_python(value), by_alias=True)
