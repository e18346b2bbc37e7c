"""Hand-made gold tables in tests keep the declared shape (``fvi.contract``): the write-time check still holds."""

from __future__ import annotations

import pandas as pd

from fvi.contract import complete
from fvi.warehouse import Warehouse


def write_gold(wh: Warehouse, name: str, frame: pd.DataFrame) -> None:
    """``frame`` with the declared columns it leaves out added as nulls; types and key still checked on write."""
    wh.write_table("gold", name, complete(name, frame))
