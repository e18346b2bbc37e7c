"""Per build, in memory: what a profile or a list page reads, located by entity, so a read costs no scan.

The gold tables are stored in pipeline order, so ``where entity_id = ?`` on ``gold.fvi_scores``
(~800k rows) reads every row group: 5-10 ms quiet, ~100 ms on a loaded machine, and a profile
makes eight such reads. Once per build (DuckDB warehouse), a background thread loads:

* every entity's rows at its **latest scored year** of ``fvi_scores``, ``fvi_metric_scores``,
  ``fvi_predictions``, ``fvi_predictions_bayes`` and ``fvi_probabilities`` (Arrow tables sorted by
  entity, each entity-year one slice), and the years each entity was scored in;
* of ``fvi_score_contributions`` at that year, only the rows the profile's "drivers" use (per
  horizon, the first persona in order, its ``DRIVERS_TOP`` largest contributions);
* ``dim_mine``, ``dim_country`` and each US mine's latest ``fct_us_mine__yearly`` row;
* each entity type's Monte Carlo sensitivity rows.

The type's latest year (the lists' default) is every entity's latest year too, so the mines list
and the rankings page through the same table with Arrow compute. Anything else (an older
``as_of_year``, a name search, PostgreSQL) goes to SQL as before, and until the store is loaded
every read does. ~60-80 MB per worker on the real build; loading takes a few seconds of one core.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fvi.api.db import Reader, Row, clean

log = logging.getLogger(__name__)

MEMO_KEY = "entity_store"
DRIVERS_TOP = 6  # fvi.api.profiles.score_drivers' default
Key = tuple[str, str]

# table -> ORDER BY of its rows within one entity-year, as the SQL readers in fvi.api.queries order them
ENTITY_TABLES = {
    "fvi_scores": "as_of_year, horizon, persona",
    "fvi_metric_scores": "pillar, metric_id",
    "fvi_predictions": None,
    "fvi_predictions_bayes": None,
    "fvi_probabilities": None,
}
METRIC_SCORE_COLUMNS = ("metric_id", "pillar", "raw_value", "value_used", "score", "imputation")
CONTRIBUTION_COLUMNS = (
    "horizon", "persona", "metric_id", "pillar", "metric_of", "raw_value", "typical_value", "score", "typical_score",
    "points", "imputation",
)  # fmt: skip
_ORDER = re.compile(r"^(s|d)\.(\w+) (asc|desc) nulls last, s\.entity_id asc$")


def _needs_clean(t: pa.DataType) -> bool:
    """Columns whose Python values ``clean`` changes (decimals, dates and times; floats are fixed at load)."""
    plain = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t) or pa.types.is_boolean(t)
    return not (plain or pa.types.is_floating(t))


def _finite(table: pa.Table) -> pa.Table:
    """NaN and infinities as nulls in float columns (what ``clean`` makes of them), once."""
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            col = table.column(i)
            table = table.set_column(i, field.name, pc.if_else(pc.is_finite(col), col, pa.scalar(None, field.type)))
    return table


class _Sliced:
    """An Arrow table sorted by (entity_type, entity_id) with each entity's [start, stop) rows.

    One chunk, plain (not dictionary-encoded) columns: a 20-row slice then converts in ~0.2 ms, 2-3x
    faster than from DuckDB's many chunks or dictionary arrays; only float, decimal and date columns
    go through ``clean``.
    """

    def __init__(self, table: pa.Table, columns: tuple[str, ...] | None = None) -> None:
        kept = table if columns is None else table.select([c for c in columns if c in table.column_names])
        self.table = _finite(kept.combine_chunks())
        self.fix = [f.name for f in self.table.schema if _needs_clean(f.type)]
        self.slices: dict[Key, tuple[int, int]] = {}
        if table.num_rows:
            types = table.column("entity_type").to_pylist()
            ids = table.column("entity_id").to_pylist()
            start = 0
            for i in range(1, len(ids) + 1):
                if i == len(ids) or ids[i] != ids[start] or types[i] != types[start]:
                    self.slices[(str(types[start]), str(ids[start]))] = (start, i)
                    start = i

    def rows(self, key: Key) -> list[Row]:
        span = self.slices.get(key)
        if span is None:
            return []
        cols = self.table.slice(span[0], span[1] - span[0]).to_pydict()
        for name in self.fix:
            cols[name] = [clean(v) for v in cols[name]]
        names = list(cols)
        return [dict(zip(names, values, strict=True)) for values in zip(*cols.values(), strict=True)]


class EntityStore:
    """See the module doc; built by :func:`load`, found by :func:`get`."""

    def __init__(self) -> None:
        self.version = ""
        self.latest: dict[Key, int] = {}
        self.type_latest: dict[str, int] = {}  # the lists' default year per entity type
        self.years: dict[Key, list[int]] = {}
        self.tables: dict[str, _Sliced] = {}
        self.drivers_by_key: _Sliced | None = None
        self.dims: dict[str, dict[Any, Row]] = {}
        self.sensitivity: dict[str, list[Row]] = {}
        self.scores: pa.Table | None = None  # fvi_scores at the latest years, with the dimension columns joined
        self.groups: dict[tuple[str, str, str, int], np.ndarray] = {}
        self.country_of = np.empty(0, dtype=object)  # per row of ``scores``: country_iso3, lower(status)
        self.status_of = np.empty(0, dtype=object)
        self.seconds = 0.0

    # -- one entity -----------------------------------------------------------------------

    def holds(self, entity_type: str, entity_id: str, year: int | None) -> bool:
        """True when the store answers for this entity-year (its latest scored year)."""
        latest = self.latest.get((entity_type, entity_id))
        return latest is not None and (year is None or year == latest)

    def rows(self, table: str, entity_type: str, entity_id: str) -> list[Row] | None:
        """The entity's rows of ``table`` at its latest year; None when the build has no such table."""
        sliced = self.tables.get(table)
        return None if sliced is None else sliced.rows((entity_type, entity_id))

    def identity(self, entity_type: str, entity_id: str, msha_id: int | None = None) -> Row | None:
        """The dimension row (``queries.identity``); KeyError when that dimension was not loaded."""
        dim = self.dims[entity_type]
        return dim.get(msha_id if entity_type == "us_mine" else entity_id)

    def drivers(self, entity_type: str, entity_id: str, top: int) -> list[Row] | None:
        """The contribution rows the drivers use (None: not held for ``top``)."""
        if self.drivers_by_key is None or top > DRIVERS_TOP:
            return None
        return self.drivers_by_key.rows((entity_type, entity_id))

    # -- lists ------------------------------------------------------------------------------

    def list_scores(
        self,
        *,
        entity_type: str,
        horizon: str,
        persona: str,
        as_of_year: int,
        columns: tuple[str, ...],
        extra: tuple[str, ...],
        country: str | None,
        status: str | None,
        order: str,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int] | None:
        """One page as ``queries.list_scores`` answers it, or None when this store cannot (then: SQL)."""
        m = _ORDER.match(order)
        if self.scores is None or m is None:
            return None
        idx = self.groups.get((entity_type, horizon, persona, as_of_year))
        if idx is None:
            return [], 0
        if country:
            idx = idx[self.country_of[idx] == country.upper()]
        if status:
            idx = idx[self.status_of[idx] == status.lower()]
        total = len(idx)
        if offset >= total:
            return [], total
        field = m.group(2)
        if m.group(1) == "d" and f"d_{field}" in self.scores.column_names:
            field = f"d_{field}"
        if field not in self.scores.column_names:
            return None
        # sort the two key columns of this group only, then convert just the page's rows
        keys = self.scores.select([field, "entity_id"]).take(pa.array(idx))
        direction = "ascending" if m.group(3) == "asc" else "descending"
        ordered = pc.sort_indices(keys, sort_keys=[(field, direction, "at_end"), ("entity_id", "ascending", "at_end")])
        page_rows = idx[ordered.slice(offset, limit).to_numpy()]
        have = set(self.scores.column_names)
        source = {c: c for c in columns if c in have}
        source.update({c: f"d_{c}" if f"d_{c}" in have else c for c in extra if c in have or f"d_{c}" in have})
        page = self.scores.select(list(dict.fromkeys(source.values()))).take(pa.array(page_rows)).to_pydict()
        values = {c: [clean(v) for v in page[col]] for c, col in source.items()}
        n = len(page_rows)
        items = [{c: values[c][i] if c in values else None for c in (*columns, *extra)} for i in range(n)]
        return items, total


def get(r: Reader) -> EntityStore | None:
    """The loaded store of ``r``'s build, or None (not DuckDB, not loaded yet: then loading starts)."""
    if r.kind != "duckdb":
        return None
    found = r.memo(MEMO_KEY)
    if isinstance(found, EntityStore):
        return found
    if found is None:
        start_loading(r)
    return None


_loading = threading.Lock()


def preload(state: Any) -> None:
    """Start-up hook: start loading the live build's store now, not on the first profile request."""
    from fvi.warehouse import WarehouseUnavailable

    try:
        with state.warehouse.reader() as r:
            get(r)
    except WarehouseUnavailable:
        pass  # nothing built yet: the first read after a build starts it


class StoreCollector:
    """``fvi_entity_store_loaded`` (1 once the live build's store is in memory) and its load time, at scrape time."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        found: Any = None
        try:
            with self._state.warehouse.reader() as r:
                found = r.memo(MEMO_KEY) if r.kind == "duckdb" else None
        except Exception:  # noqa: BLE001 - no warehouse: nothing loaded
            found = None
        loaded = isinstance(found, EntityStore)
        yield GaugeMetricFamily(
            "fvi_entity_store_loaded",
            "1 when the profile and list routes answer from memory for the live build (else from SQL).",
            value=1.0 if loaded else 0.0,
        )
        yield GaugeMetricFamily(
            "fvi_entity_store_load_seconds", "How long loading the live build's entity store took.",
            value=found.seconds if loaded else 0.0,
        )  # fmt: skip


def start_loading(r: Reader) -> None:
    """Load the store of ``r``'s build in a background thread (once per build)."""
    with _loading:
        if r.memo(MEMO_KEY) is not None:
            return
        r.remember(MEMO_KEY, "loading")
    threading.Thread(target=_load_into, args=(r,), name="fvi-entity-store", daemon=True).start()


def _load_into(requested: Reader) -> None:
    """Open the live build again (its own reader and cursor); load only if it is still the requested one."""
    live = getattr(requested, "live", None)
    if live is None:
        return
    try:
        with live.reader() as reader:
            if reader.version != requested.version:
                return  # a newer build is live: its first reader starts its own load
            try:
                store = load(reader)
            except Exception:  # noqa: BLE001 - the routes keep answering from SQL
                log.exception("entity store: not loaded; profiles and lists read the warehouse directly")
                reader.remember(MEMO_KEY, "failed")
                return
            reader.remember(MEMO_KEY, store)
            log.info("entity store: build %s loaded in %.1f s", store.version, store.seconds)
    except Exception:  # noqa: BLE001 - warehouse gone meanwhile: nothing to load
        log.warning("entity store: build %s no longer readable", requested.version)


def _arrow(r: Reader, sql: str) -> pa.Table:
    cur = r._cursor()  # noqa: SLF001 - the store reads Arrow straight from the build's cursor
    return cur.sql(sql).to_arrow_table()


def load(r: Reader) -> EntityStore:  # noqa: C901 - one pass over the tables, in order
    """Build the store from ``r`` (DuckDB)."""
    t0 = time.perf_counter()
    store = EntityStore()
    store.version = r.version
    if not r.has_table("gold", "fvi_scores"):
        raise LookupError("no gold.fvi_scores in this build")
    scores_t = r.table("gold", "fvi_scores")
    latest_sql = f"select entity_type, entity_id, max(as_of_year) as y from {scores_t} group by all"
    years = _arrow(
        r, f"select entity_type, entity_id, list(distinct as_of_year order by as_of_year) as ys from {scores_t} "
        "group by all"
    ).to_pylist()  # fmt: skip
    for row in years:
        key = (str(row["entity_type"]), str(row["entity_id"]))
        ys = [int(y) for y in row["ys"] if y is not None]
        store.years[key] = ys
        if ys:
            store.latest[key] = ys[-1]
            store.type_latest[key[0]] = max(ys[-1], store.type_latest.get(key[0], ys[-1]))
    for name, order in ENTITY_TABLES.items():
        if not r.has_table("gold", name):
            continue
        # then storage order (rowid), as a scan with this filter returns them
        within = "".join(f", s.{c.strip()}" for c in order.split(",")) if order else ""
        within += ", s.rowid"
        table = _arrow(
            r,
            f"select s.* from {r.table('gold', name)} s join ({latest_sql}) l "
            "on l.entity_type = s.entity_type and l.entity_id = s.entity_id and s.as_of_year = l.y "
            f"order by s.entity_type, s.entity_id{within}",
        )
        store.tables[name] = _Sliced(table, METRIC_SCORE_COLUMNS + ("entity_type", "entity_id")
                                     if name == "fvi_metric_scores" else None)  # fmt: skip
    if r.has_table("gold", "fvi_score_contributions"):
        c = r.table("gold", "fvi_score_contributions")
        cols = ", ".join(f"c.{x}" for x in CONTRIBUTION_COLUMNS)
        table = _arrow(
            r,
            f"select c.entity_type, c.entity_id, {cols} from ("
            f"  select c.*, min(c.persona) over (partition by c.entity_type, c.entity_id, c.horizon) as first_persona"
            f"  from {c} c join ({latest_sql}) l"
            "   on l.entity_type = c.entity_type and l.entity_id = c.entity_id and c.as_of_year = l.y) c "
            "where c.persona = c.first_persona "
            "qualify row_number() over (partition by c.entity_type, c.entity_id, c.horizon "
            f"order by abs(c.points) desc, c.metric_id) <= {DRIVERS_TOP} "
            "order by c.entity_type, c.entity_id, c.horizon, c.persona, abs(c.points) desc, c.metric_id",
        )
        store.drivers_by_key = _Sliced(table)
    _load_dims(r, store)
    if r.has_table("gold", "fvi_sensitivity"):
        t = r.table("gold", "fvi_sensitivity")
        rows = r.rows(
            f"select entity_type, horizon, persona, factor, s1, st, as_of_year, n_entities from {t} s "
            f"where as_of_year = (select max(as_of_year) from {t} x where x.entity_type = s.entity_type) "
            "order by entity_type, horizon, persona, st desc"
        )
        for row in rows:
            store.sensitivity.setdefault(str(row.pop("entity_type")), []).append(row)
    _index_lists(store)
    store.seconds = time.perf_counter() - t0
    return store


def _load_dims(r: Reader, store: EntityStore) -> None:
    if r.has_table("gold", "dim_mine"):
        store.dims["mine"] = {row["gem_mine_id"]: row for row in r.rows(f"select * from {r.table('gold', 'dim_mine')}")}
    if r.has_table("gold", "dim_country"):
        t = r.table("gold", "dim_country")
        store.dims["country"] = {row["iso3"]: row for row in r.rows(f"select * from {t}")}
    if r.has_table("gold", "fct_us_mine__yearly"):
        t = r.table("gold", "fct_us_mine__yearly")
        rows = r.rows(f"select * from {t} qualify row_number() over (partition by msha_id order by year desc) = 1")
        store.dims["us_mine"] = {row["msha_id"]: row for row in rows}


def _index_lists(store: EntityStore) -> None:
    """The latest-year score rows with the dimension columns, and row numbers per (type, horizon, persona, year)."""
    sliced = store.tables.get("fvi_scores")
    if sliced is None:
        return
    table = sliced.table
    from fvi.api.queries import DIM

    for entity_type, (_name, _key, cols) in DIM.items():
        dim = store.dims.get(entity_type, {})
        ids = table.column("entity_id").to_pylist()
        types = table.column("entity_type").to_pylist()
        for col in cols:
            values = [dim.get(i, {}).get(col) if t == entity_type else None for t, i in zip(types, ids, strict=True)]
            name = col if col not in table.column_names else f"d_{col}"
            table = table.append_column(name, pa.array(values))
    store.scores = table.combine_chunks()
    store.country_of = np.asarray(table.column("country_iso3").to_pylist(), dtype=object)
    store.status_of = np.asarray([None if v is None else v.lower() for v in table.column("status").to_pylist()],
                                 dtype=object)  # fmt: skip
    keys = zip(
        table.column("entity_type").to_pylist(),
        table.column("horizon").to_pylist(),
        table.column("persona").to_pylist(),
        table.column("as_of_year").to_pylist(),
        strict=True,
    )
    groups: dict[tuple[str, str, str, int], list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    store.groups = {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
