"""Mutual information between binned features and a binary outcome, from exact joint counts.

Every engine reduces the data to the same table of integer counts ``n(horizon, metric, code,
label)`` and hands it to :func:`mi_from_counts`, the one place the estimate is computed; so the
local and Spark engines agree to the last bit whenever their counts agree.

Estimator (natural log, so nats): the plug-in MI of the empirical joint distribution,
``sum n_xy/N * log(n_xy N / (n_x n_y))``. It is biased upwards by about
``(K_x - 1)(K_y - 1) / 2N``; ``correction="miller_madow"`` subtracts the Miller–Madow term
``(K_xy - K_x - K_y + 1) / 2N`` (K = occupied cells), which can make a near-zero MI slightly
negative. Both values are returned; ``mi`` is the chosen one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from fvi.weights.bins import KEYS

log = logging.getLogger(__name__)

Correction = Literal["none", "miller_madow"]
COUNT_COLUMNS = ["horizon", "metric", "code", "label", "n"]
MI_COLUMNS = ["horizon", "metric", "n_rows", "n_bins", "h_label", "mi_plugin", "mi", "mi_share", "estimator"]


def prepare(
    codes: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    keys: Sequence[str] = KEYS,
    label_col: str = "label",
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Checked inputs for any engine: (codes, labels[keys, horizon, label], feature names).

    Rows without a known outcome (NaN label: the horizon has not elapsed) are left out and
    logged; anything but 0/1 is an error, as are duplicate keys.
    """
    keys = list(keys)
    for what, frame, cols in (
        ("codes", codes, keys),
        ("labels", labels, [*keys, "horizon", label_col]),
    ):
        absent = [c for c in cols if c not in frame.columns]
        if absent:
            raise ValueError(f"{what} lack columns {absent}")
    feats = [c for c in codes.columns if c not in keys]
    if not feats:
        raise ValueError("codes hold no feature columns")
    not_int = [c for c in feats if not pd.api.types.is_integer_dtype(codes[c])]
    if not_int:
        raise ValueError(f"codes must be integer bin codes (use fvi.weights.discretise); not: {not_int}")
    if codes.duplicated(keys).any():
        raise ValueError(f"codes: duplicate keys {keys}")
    lab = labels[[*keys, "horizon", label_col]].rename(columns={label_col: "label"})
    known = lab["label"].notna()
    if not known.all():
        log.info("weights: %d label rows without a known outcome left out", int((~known).sum()))
        lab = lab[known]
    y = pd.to_numeric(lab["label"], errors="coerce")
    if not y.isin([0, 1]).all():
        bad = sorted(set(lab.loc[~y.isin([0, 1]), "label"].astype(str)))[:5]
        raise ValueError(f"labels must be 0/1 (binary outcome), found {bad}")
    lab = lab.assign(label=y.astype("int8"))
    if lab.duplicated([*keys, "horizon"]).any():
        raise ValueError(f"labels: duplicate rows for {[*keys, 'horizon']}")
    return codes[[*keys, *feats]], lab.reset_index(drop=True), feats


def sort_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Canonical order and dtypes, so counts from different engines compare (and sum) alike."""
    out = counts[COUNT_COLUMNS].astype({"metric": "object", "code": "int64", "label": "int64", "n": "int64"})
    return out.sort_values(["horizon", "metric", "code", "label"], kind="mergesort").reset_index(drop=True)


def joint_counts_local(
    codes: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    keys: Sequence[str] = KEYS,
    label_col: str = "label",
) -> pd.DataFrame:
    """Occupied cells of the (code, label) contingency table per horizon and metric (numpy)."""
    codes, lab, feats = prepare(codes, labels, keys=keys, label_col=label_col)
    merged = lab.merge(codes, on=list(keys), how="inner", validate="many_to_one")
    parts: list[pd.DataFrame] = []
    for horizon, g in merged.groupby("horizon", sort=True):
        y = g["label"].to_numpy(dtype="int64")
        x = g[feats].to_numpy(dtype="int64")
        for j, metric in enumerate(feats):
            flat = np.bincount(x[:, j] * 2 + y)
            cells = np.flatnonzero(flat)
            parts.append(
                pd.DataFrame(
                    {"horizon": horizon, "metric": metric, "code": cells // 2, "label": cells % 2, "n": flat[cells]}
                )
            )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in COUNT_COLUMNS})
    return sort_counts(pd.concat(parts, ignore_index=True))


def mi_from_counts(counts: pd.DataFrame, correction: Correction = "none") -> pd.DataFrame:
    """MI (nats) per (horizon, metric) from a joint count table; see the module docstring."""
    if correction not in ("none", "miller_madow"):
        raise ValueError(f"correction must be 'none' or 'miller_madow', not {correction!r}")
    if counts.empty:
        return pd.DataFrame(columns=MI_COLUMNS)
    c = sort_counts(counts)
    c = c[c["n"] > 0]
    g = ["horizon", "metric"]
    n = c["n"].to_numpy(dtype="float64")
    big_n = c.groupby(g, sort=False)["n"].transform("sum").to_numpy(dtype="float64")
    n_x = c.groupby([*g, "code"], sort=False)["n"].transform("sum").to_numpy(dtype="float64")
    n_y = c.groupby([*g, "label"], sort=False)["n"].transform("sum").to_numpy(dtype="float64")
    c = c.assign(
        term=n / big_n * np.log(n * big_n / (n_x * n_y)),
        first_y=(c.groupby([*g, "label"], sort=False).cumcount() == 0),
        first_x=(c.groupby([*g, "code"], sort=False).cumcount() == 0),
        py=n_y / big_n,
    )
    c["hy_term"] = np.where(c["first_y"], -c["py"] * np.log(c["py"]), 0.0)
    agg = c.groupby(g, sort=True).agg(
        n_rows=("n", "sum"),
        mi_plugin=("term", "sum"),
        h_label=("hy_term", "sum"),
        k_xy=("n", "size"),
        n_bins=("first_x", "sum"),
        k_y=("first_y", "sum"),
    )
    agg["mi_plugin"] = agg["mi_plugin"].clip(lower=0.0)  # exact zero can come out as -1e-17
    if correction == "miller_madow":
        agg["mi"] = agg["mi_plugin"] - (agg["k_xy"] - agg["n_bins"] - agg["k_y"] + 1) / (2.0 * agg["n_rows"])
    else:
        agg["mi"] = agg["mi_plugin"]
    agg["mi_share"] = agg["mi"] / agg["h_label"].where(agg["h_label"] > 0)  # NaN when the label never varies
    agg["estimator"] = "plugin" if correction == "none" else "miller_madow"
    out = agg.reset_index()
    return out.astype({"n_rows": "int64", "n_bins": "int64"})[MI_COLUMNS]


def mutual_information_local(
    codes: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    keys: Sequence[str] = KEYS,
    label_col: str = "label",
    correction: Correction = "none",
) -> pd.DataFrame:
    """MI of every code column with the label, per horizon, counted in pandas/numpy."""
    return mi_from_counts(joint_counts_local(codes, labels, keys=keys, label_col=label_col), correction)
