"""``fvi export scores``: the scores of one entity type to CSV or Parquet, written atomically."""

from __future__ import annotations

from pathlib import Path

from fvi.ml.export_mines import stamp, write_frame
from fvi.settings import Settings
from fvi.warehouse import live


def export_scores(settings: Settings, entity: str, fmt: str, out: Path, *, as_of: int | None = None) -> int:
    """Write ``gold.fvi_scores`` rows of ``entity`` (optionally one as-of year) to ``out``; returns rows."""
    with live(settings) as wh:
        if not wh.has_table("gold", "fvi_scores"):
            raise LookupError("no scores yet: run `fvi run` (or `fvi score`)")
        sql = f"select * from {wh.schema('gold')}.fvi_scores where entity_type = ?"
        params: list[object] = [entity]
        if as_of is not None:
            sql += " and as_of_year = ?"
            params.append(int(as_of))
        frame = stamp(wh, wh.query(sql + " order by as_of_year, horizon, persona, rank", params), as_of=as_of,
                      what=entity)
    write_frame(frame, out, fmt)
    return len(frame)
