"""A Feast repository generated from the metric registry and fed from the gold tables.

Nothing here is written by hand per metric: the feature views hold exactly the gold columns the
registry names as metrics (plus the few extras in ``EXTRA_FEATURES``), typed from the exported
data and described from the registry. Layout under ``FVI_HOME/feast/`` (or any ``repo_dir``)::

    feature_store.yaml          generated config: project, registry, offline and online store
    repo/fvi_features.py        the one generated definitions file (entities, sources, views)
    data/<gold table>.parquet   offline copies of the gold tables the file sources read
    store/registry.db           Feast's registry (file)
    store/online.db             the SQLite online store (unless Redis is configured)

``feast apply`` imports every ``.py`` below the repository, so generated code, data and state
live in separate folders (and ``.feastignore`` keeps Feast out of ``data/`` and ``store/``).

Event time: a yearly row for year ``Y`` is stamped ``Y-12-31 00:00 UTC``, i.e. a yearly value
counts as known from the last day of its year (a point-in-time join at any moment of ``Y+1``
sees it, one in the middle of ``Y`` sees ``Y-1``). ``dim_mine`` has no year: a row holds the mine's
record in a GEM release, known from that release (:mod:`fvi.known`), so it is stamped
``R-12-31 00:00 UTC`` for release year R, like a yearly row of R (``STATIC_TIMESTAMP``, the Unix
epoch, only when the release cannot be read).
TTL is 0, which Feast reads as "never expires": a mine's latest reported year stays its online
value however old it is (the ``year`` feature says which year that is).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from fvi import known
from fvi.registry.metrics import Metric, load_metrics
from fvi.settings import Settings
from fvi.warehouse import Warehouse

if TYPE_CHECKING:
    from feast import FeatureStore

PROJECT = "fvi"
EVENT_TIMESTAMP = "event_timestamp"
STATIC_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
DEFINITIONS = Path("repo") / "fvi_features.py"


@dataclass(frozen=True)
class EntitySpec:
    """A Feast entity: its name, the gold column that joins it, and a description."""

    name: str
    join_key: str
    description: str


@dataclass(frozen=True)
class ViewSpec:
    """A Feast feature view over one gold table; ``yearly`` views are keyed by entity and year."""

    name: str
    entity: str
    table: str
    yearly: bool
    description: str


ENTITIES: dict[str, EntitySpec] = {
    "mine": EntitySpec("mine", "gem_mine_id", "A coal mine, keyed by its Global Energy Monitor mine ID."),
    "country": EntitySpec("country", "iso3", "A country, keyed by its ISO 3166-1 alpha-3 code."),
}

VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec(
        name="mine_yearly",
        entity="mine",
        table="fct_mine__yearly",
        yearly=True,
        description="Mine metrics per year (gold fct_mine__yearly); online: the mine's latest year.",
    ),
    ViewSpec(
        name="mine_static",
        entity="mine",
        table="dim_mine",
        yearly=False,
        description="Mine attributes without a year (gold dim_mine), stamped at the GEM release that holds them.",
    ),
    ViewSpec(
        name="country_yearly",
        entity="country",
        table="fct_country__yearly",
        yearly=True,
        description="Country metrics per year (gold fct_country__yearly); online: the country's latest year.",
    ),
)

# Columns served besides the registry's metrics, with the reason they are there.
EXTRA_FEATURES: dict[str, dict[str, str]] = {
    "fct_mine__yearly": {"year": "Calendar year of the values (online: the as-of year of the latest row)."},
    "dim_mine": {"country_iso3": "ISO3 code of the country the mine sits in (the key of the country entity)."},
    "fct_country__yearly": {"year": "Calendar year of the values (online: the as-of year of the latest row)."},
}


def feast_dir(settings: Settings) -> Path:
    """Default repository folder: ``FVI_HOME/feast``."""
    return settings.home_abs / "feast"


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Offline export


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """One nullable dtype per column (Int64, float64, boolean, string) whatever the backend gave.

    DuckDB hands back Int32/boolean/object, PostgreSQL plain objects (ints, Decimals, None); the
    feature types are read from the parquet files, so they must not depend on which one ran.
    """
    out: dict[str, Any] = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[col] = s.astype("boolean")
        elif pd.api.types.is_integer_dtype(s.dtype):
            out[col] = s.astype("Int64")
        elif pd.api.types.is_float_dtype(s.dtype):
            out[col] = s.astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[col] = s
        else:
            kind = pd.api.types.infer_dtype(s, skipna=True)
            if kind == "boolean":
                out[col] = s.astype("boolean")
            elif kind == "integer":
                out[col] = s.astype("Int64")
            elif kind in ("floating", "mixed-integer-float", "decimal"):
                out[col] = pd.to_numeric(s, errors="raise").astype("float64")
            else:
                out[col] = s.astype("string")
    return pd.DataFrame(out, index=frame.index)


def _offline_frame(spec: ViewSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The gold table as the file source serves it: typed, keyed, with an event timestamp."""
    key = ENTITIES[spec.entity].join_key
    keys = [key, "year"] if spec.yearly else [key]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ValueError(f"gold.{spec.table}: key column(s) {missing} missing")
    if frame[keys].isna().any().any():
        raise ValueError(f"gold.{spec.table}: null in key column(s) {keys}")
    if frame.duplicated(keys).any():
        raise ValueError(f"gold.{spec.table}: more than one row per {keys}")
    frame = _normalise(frame)
    if spec.yearly:
        parts = pd.DataFrame({"year": frame["year"].astype("int64"), "month": 12, "day": 31})
        frame[EVENT_TIMESTAMP] = pd.to_datetime(parts, utc=True)
    else:
        # one timestamp per row: the strictest date among its columns (fvi.known), the GEM release
        # that holds the record; rows without a readable release keep STATIC_TIMESTAMP
        release = (
            known.release_year(frame[known.RELEASE_COLUMN])
            if known.RELEASE_COLUMN in frame.columns
            else pd.Series(np.nan, index=frame.index)
        )
        stamp = pd.to_datetime(
            pd.DataFrame({"year": release.fillna(1970).astype("int64"), "month": 12, "day": 31}), utc=True
        )
        frame[EVENT_TIMESTAMP] = stamp.where(release.notna(), pd.Timestamp(STATIC_TIMESTAMP))
    return frame.reset_index(drop=True)


def export_offline(settings: Settings, wh: Warehouse, data_dir: Path | None = None) -> dict[str, Path]:
    """Write each gold table behind a feature view to ``data_dir/<table>.parquet`` (atomically).

    Whole tables are copied: the file sources read only the columns a view declares.
    """
    data_dir = Path(data_dir) if data_dir is not None else feast_dir(settings) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    gold = wh.schema("gold")
    written: dict[str, Path] = {}
    for spec in VIEWS:
        frame = _offline_frame(spec, wh.query(f"select * from {gold}.{spec.table}"))
        target = data_dir / f"{spec.table}.parquet"
        tmp = target.with_name(f".{target.name}.part")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, target)
        written[spec.table] = target
    return written


# ---------------------------------------------------------------------------------------------
# Repository generation


@dataclass(frozen=True)
class _Feature:
    name: str
    dtype: str
    description: str
    tags: dict[str, str]


def _feast_type(field: pa.Field, where: str) -> str:
    t = field.type
    if pa.types.is_boolean(t):
        return "Bool"
    if pa.types.is_integer(t):
        return "Int64"
    if pa.types.is_floating(t):
        return "Float64"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "String"
    raise TypeError(f"{where}: no Feast type for {t}")


def _plan(metrics: Mapping[str, Metric], schemas: Mapping[str, pa.Schema]) -> dict[str, list[_Feature]]:
    """Features per view: extras first, then the registry's metrics in file order."""
    tables = {spec.table: spec for spec in VIEWS}
    plan: dict[str, list[_Feature]] = {spec.name: [] for spec in VIEWS}
    seen: set[tuple[str, str]] = set()

    def add(table: str, column: str, description: str, tags: dict[str, str]) -> None:
        spec = tables[table]
        schema = schemas[table]
        if column not in schema.names:
            raise ValueError(f"gold.{table} has no column {column!r} (named by the metric registry)")
        if (table, column) in seen:
            return
        seen.add((table, column))
        dtype = _feast_type(schema.field(column), f"gold.{table}.{column}")
        plan[spec.name].append(_Feature(column, dtype, description, tags))

    for table, extras in EXTRA_FEATURES.items():
        for column, why in extras.items():
            add(table, column, why, {"extra": "true"})
    for m in metrics.values():
        spec = tables.get(m.gold.table)
        if spec is None:
            raise ValueError(f"metric {m.id}: gold table {m.gold.table!r} has no feature view ({sorted(tables)})")
        if ENTITIES[spec.entity].name != m.entity:
            raise ValueError(f"metric {m.id}: entity {m.entity!r} but gold.{m.gold.table} is a {spec.entity} table")
        tags = {"metric_id": m.id, "pillar": m.pillar, "unit": m.unit, "polarity": m.polarity}
        add(m.gold.table, m.gold.column, f"{m.name} ({m.unit}). {m.description.strip()}", tags)
    return plan


def _redis_connection_string(url: str) -> str:
    """Feast's ``host:port,db=N,...`` from a ``redis://`` / ``rediss://`` URL (passed through if not a URL)."""
    u = urlparse(url)
    if u.scheme not in ("redis", "rediss"):
        return url
    parts = [f"{u.hostname or '127.0.0.1'}:{u.port or 6379}"]
    db = (u.path or "/").lstrip("/")
    if db:
        parts.append(f"db={int(db)}")
    if u.username:
        parts.append(f"username={unquote(u.username)}")
    if u.password:
        parts.append(f"password={unquote(u.password)}")
    if u.scheme == "rediss":
        parts.append("ssl=true")
    return ",".join(parts)


def _config(project: str, online_store_url: str | None) -> dict[str, Any]:
    online: dict[str, Any] = {"type": "sqlite", "path": "store/online.db"}
    if online_store_url:
        # Materialise writes one row per entity (its latest); skip_dedup lets a rebuild overwrite a
        # corrected value with the same event time, which Redis' timestamp check would refuse.
        online = {
            "type": "redis",
            "connection_string": _redis_connection_string(online_store_url),
            "skip_dedup": True,
        }
    return {
        "project": project,
        "provider": "local",
        "registry": {"registry_type": "file", "path": "store/registry.db", "cache_ttl_seconds": 60},
        "offline_store": {"type": "file"},
        "online_store": online,
        "entity_key_serialization_version": 3,
    }


def _definitions_source(plan: Mapping[str, list[_Feature]], data_rel: str, registry_sha: str) -> str:
    """Python text of the definitions module (reprs everywhere: descriptions hold quotes)."""
    used = sorted({"String"} | {f.dtype for features in plan.values() for f in features})
    lines = [
        '"""Feast definitions for FVI, generated by fvi.feature_store.store.generate_repo. Do not edit.',
        "",
        f"Generated from the metric registry (sha256 {registry_sha[:16]}) and the exported gold schema;",
        "rerun build_feature_store to change them. Yearly rows are stamped year-12-31 00:00 UTC,",
        "dim_mine rows at their GEM release's year-12-31; ttl 0 means values never expire.",
        '"""',
        "",
        "from datetime import timedelta",
        "from pathlib import Path",
        "",
        "from feast import Entity, FeatureView, Field, FileSource, ValueType",
        f"from feast.types import {', '.join(used)}",
        "",
        f"DATA = (Path(__file__).resolve().parent / {data_rel!r}).resolve()",
        "",
    ]
    for e in ENTITIES.values():
        lines.append(
            f"{e.name} = Entity(name={e.name!r}, join_keys=[{e.join_key!r}], value_type=ValueType.STRING, "
            f"description={e.description!r})"
        )
    lines.append("")
    for spec in VIEWS:
        key = ENTITIES[spec.entity].join_key
        lines += [
            f"{spec.name}_source = FileSource(",
            f"    name={spec.name + '_source'!r},",
            f"    path=str(DATA / {spec.table + '.parquet'!r}),",
            f"    timestamp_field={EVENT_TIMESTAMP!r},",
            f"    description={'gold.' + spec.table!r},",
            ")",
            f"{spec.name} = FeatureView(",
            f"    name={spec.name!r},",
            f"    entities=[{spec.entity}],",
            "    ttl=timedelta(0),",
            "    online=True,",
            f"    source={spec.name}_source,",
            f"    description={spec.description!r},",
            f"    tags={{'gold_table': {spec.table!r}, 'event_time': {_event_time_note(spec)!r}}},",
            "    schema=[",
            f"        Field(name={key!r}, dtype=String),",
        ]
        for f in plan[spec.name]:
            lines.append(
                f"        Field(name={f.name!r}, dtype={f.dtype}, description={f.description!r}, tags={f.tags!r}),"
            )
        lines += ["    ],", ")", ""]
    lines.append(f"ENTITIES = [{', '.join(ENTITIES)}]")
    lines.append(f"FEATURE_VIEWS = [{', '.join(spec.name for spec in VIEWS)}]")
    return "\n".join(lines) + "\n"


def _event_time_note(spec: ViewSpec) -> str:
    return "year-12-31T00:00:00+00:00" if spec.yearly else "release-year-12-31T00:00:00+00:00"


def generate_repo(
    settings: Settings,
    metrics: Mapping[str, Metric],
    repo_dir: Path | None = None,
    *,
    data_dir: Path | None = None,
    online_store_url: str | None = None,
    project: str = PROJECT,
) -> Path:
    """Write ``feature_store.yaml`` and ``repo/fvi_features.py``; returns the repository folder.

    Feature types come from the exported parquet files (run :func:`export_offline` first), so
    they are what the file sources really serve.
    """
    repo_dir = Path(repo_dir) if repo_dir is not None else feast_dir(settings)
    data_dir = Path(data_dir) if data_dir is not None else repo_dir / "data"
    schemas: dict[str, pa.Schema] = {}
    for spec in VIEWS:
        path = data_dir / f"{spec.table}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path}: export the gold tables first (export_offline)")
        schemas[spec.table] = pq.read_schema(path)
    plan = _plan(metrics, schemas)
    registry_sha = hashlib.sha256("\n".join(m.model_dump_json() for m in metrics.values()).encode("utf-8")).hexdigest()
    defs = repo_dir / DEFINITIONS
    data_rel = os.path.relpath(data_dir.resolve(), defs.parent.resolve())
    header = "# Generated by fvi.feature_store.store.generate_repo; do not edit (rerun build_feature_store).\n"
    _atomic_write_text(
        repo_dir / "feature_store.yaml",
        header + yaml.safe_dump(_config(project, online_store_url), sort_keys=False),
    )
    _atomic_write_text(repo_dir / ".feastignore", "data/\nstore/\n")
    _atomic_write_text(defs, _definitions_source(plan, data_rel, registry_sha))
    (repo_dir / "store").mkdir(parents=True, exist_ok=True)
    return repo_dir


# ---------------------------------------------------------------------------------------------
# Apply, materialise, read


def _quiet_feast() -> None:
    # Feast 0.67 has no usage telemetry left, but older releases read this; keep it off regardless.
    os.environ.setdefault("FEAST_USAGE", "False")


def open_store(settings: Settings, repo_dir: Path | None = None) -> FeatureStore:
    """The Feast store of a generated repository (default ``FVI_HOME/feast``)."""
    _quiet_feast()
    from feast import FeatureStore

    repo_dir = Path(repo_dir) if repo_dir is not None else feast_dir(settings)
    if not (repo_dir / "feature_store.yaml").exists():
        raise FileNotFoundError(f"no Feast repository at {repo_dir}: run build_feature_store first")
    return FeatureStore(repo_path=str(repo_dir))


def _load_definitions(path: Path) -> ModuleType:
    """Import the generated file by path, under a name that cannot shadow a real module."""
    name = "_fvi_feast_defs_" + hashlib.sha1(str(path).encode("utf-8"), usedforsecurity=False).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source_path(view: Any) -> Path:
    return Path(view.batch_source.path)


def apply_and_materialize(settings: Settings, repo_dir: Path | None = None, *, quiet: bool = True) -> dict[str, Any]:
    """``feast apply`` the generated definitions, then materialise every view over all its rows.

    Views that are no longer generated are deleted from the registry and the online store. The
    window runs from the earliest to just past the latest event timestamp in the data, so each
    entity's latest row (its latest year) is what the online store holds.
    """
    repo_dir = Path(repo_dir) if repo_dir is not None else feast_dir(settings)
    store = open_store(settings, repo_dir)
    defs = _load_definitions(repo_dir / DEFINITIONS)
    entities, views = list(defs.ENTITIES), list(defs.FEATURE_VIEWS)

    sink = io.StringIO()
    out = contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext()
    err = contextlib.redirect_stderr(sink) if quiet else contextlib.nullcontext()
    t0 = time.perf_counter()
    with out, err:
        names = {v.name for v in views}
        stale = [v for v in store.list_feature_views() if v.name not in names]
        store.apply([*entities, *views], objects_to_delete=list(stale), partial=False)
    t_apply = time.perf_counter() - t0

    per_view: dict[str, dict[str, Any]] = {}
    starts, ends = [], []
    for v in views:
        key = ENTITIES[_entity_of(v)].join_key
        table = pq.read_table(_source_path(v), columns=[key, EVENT_TIMESTAMP])
        ts = table.column(EVENT_TIMESTAMP)
        lo, hi = pc.min(ts).as_py(), pc.max(ts).as_py()
        if lo is not None:
            starts.append(lo)
            ends.append(hi)
        per_view[v.name] = {
            "entity": _entity_of(v),
            "features": len(v.features),
            "offline_rows": table.num_rows,
            "rows_materialised": pc.count_distinct(table.column(key)).as_py(),
        }
    t1 = time.perf_counter()
    start = min(starts) if starts else STATIC_TIMESTAMP
    end = (max(ends) if ends else STATIC_TIMESTAMP) + timedelta(seconds=1)  # the window's end is exclusive
    with out, err:
        store.materialize(start_date=start, end_date=end, feature_views=[v.name for v in views])
    t_mat = time.perf_counter() - t1
    return {
        "repo": str(repo_dir),
        "project": store.project,
        "online_store": store.config.online_store.type,
        "entities": [e.name for e in entities],
        "views": per_view,
        "features": sum(v["features"] for v in per_view.values()),
        "rows_materialised": sum(v["rows_materialised"] for v in per_view.values()),
        "window": [start.isoformat(), end.isoformat()],
        "deleted_views": [v.name for v in stale],
        "apply_seconds": round(t_apply, 3),
        "materialize_seconds": round(t_mat, 3),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _entity_of(view: Any) -> str:
    names = list(view.entities)
    if len(names) != 1 or names[0] not in ENTITIES:
        raise ValueError(f"feature view {view.name}: expected one of {list(ENTITIES)}, got {names}")
    return str(names[0])


def build_feature_store(
    settings: Settings,
    wh: Warehouse,
    online_store_url: str | None = None,
    *,
    repo_dir: Path | None = None,
    metrics: Mapping[str, Metric] | None = None,
    project: str = PROJECT,
) -> dict[str, Any]:
    """Export gold, generate the repository, apply and materialise; returns the summary.

    Export runs before generation because feature types are read from the exported files.
    """
    t0 = time.perf_counter()
    repo_dir = Path(repo_dir) if repo_dir is not None else feast_dir(settings)
    export_offline(settings, wh, repo_dir / "data")
    t_export = time.perf_counter() - t0
    generate_repo(
        settings,
        metrics if metrics is not None else load_metrics(),
        repo_dir,
        online_store_url=online_store_url,
        project=project,
    )
    summary = apply_and_materialize(settings, repo_dir)
    summary["export_seconds"] = round(t_export, 3)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


def _feature_refs(store: FeatureStore, entity: str, features: Iterable[str] | None) -> list[str]:
    """``view:feature`` references; bare names are looked up among the entity's views."""
    views = [v for v in store.list_feature_views() if _entity_of(v) == entity]
    if features is None:
        return [f"{v.name}:{f.name}" for v in views for f in v.features]
    refs = []
    for name in features:
        if ":" in name:
            refs.append(name)
            continue
        owners = [v.name for v in views if any(f.name == name for f in v.features)]
        if len(owners) != 1:
            raise KeyError(f"feature {name!r} of entity {entity!r}: found in views {owners}, need exactly one")
        refs.append(f"{owners[0]}:{name}")
    return refs


def online_features(
    settings: Settings,
    entity: str,
    ids: Sequence[str],
    features: Iterable[str] | None = None,
    *,
    repo_dir: Path | None = None,
    store: FeatureStore | None = None,
) -> pd.DataFrame:
    """Latest feature values for ``ids`` of ``entity`` ('mine' or 'country'), one row per id in order.

    ``features`` are names (``gem_production_mt``) or ``view:name`` references; None means all
    features of the entity. An unknown id gives a row of missing values, not an error.
    """
    if entity not in ENTITIES:
        raise ValueError(f"entity must be one of {list(ENTITIES)}, not {entity!r}")
    store = store if store is not None else open_store(settings, repo_dir)
    key = ENTITIES[entity].join_key
    refs = _feature_refs(store, entity, features)
    response = store.get_online_features(features=refs, entity_rows=[{key: str(i)} for i in ids])
    frame = response.to_df()
    return frame[[key, *(ref.split(":", 1)[1] for ref in refs)]]
