"""Carbon pricing (Dolphin and Merkle): emissions-weighted price and coverage per jurisdiction and year."""

from __future__ import annotations

import numpy as np

from fvi.demo.formats import csv_bytes, wb_name
from fvi.demo.world import World

ECP_HEADER = [
    "jurisdiction",
    "year",
    "ecp_ets_jurGHG_usd_k",
    "ecp_tax_jurGHG_usd_k",
    "ecp_all_jurGHG_usd_k",
    "ecp_ets_jurCO2_usd_k",
    "ecp_tax_jurCO2_usd_k",
    "ecp_all_jurCO2_usd_k",
    "ecp_ets_supraGHG_usd_k",
    "ecp_tax_supraGHG_usd_k",
    "ecp_all_supraGHG_usd_k",
    "ecp_ets_supraCO2_usd_k",
    "ecp_tax_supraCO2_usd_k",
    "ecp_all_supraCO2_usd_k",
]
COVERAGE_HEADER = [
    "jurisdiction",
    "year",
    "cov_tax_CO2_jurGHG",
    "cov_tax_CO2_jurCO2",
    "cov_tax_CO2_wldGHG",
    "cov_tax_CO2_wldCO2",
    "cov_tax_CO2_supraGHG",
    "cov_tax_CO2_supraCO2",
    "cov_ets_CO2_jurGHG",
    "cov_ets_CO2_jurCO2",
    "cov_ets_CO2_wldGHG",
    "cov_ets_CO2_wldCO2",
    "cov_ets_CO2_supraGHG",
    "cov_ets_CO2_supraCO2",
    "cov_all_CO2_jurGHG",
    "cov_all_CO2_jurCO2",
    "cov_all_CO2_wldGHG",
    "cov_all_CO2_wldCO2",
    "cov_all_CO2_supraGHG",
    "cov_all_CO2_supraCO2",
]


def files(w: World, rng: np.random.Generator) -> dict[str, bytes]:
    """Price and coverage files; strict-policy countries start pricing at some year."""
    yrs = w.years.tolist()
    out: dict[str, bytes] = {}
    nc = len(w.iso3)
    # carbon pricing: strict-policy countries start a price at some year
    start = np.where(w.policy > 0.5, rng.integers(int(yrs[0]), int(yrs[-1]) + 3, size=nc), 9999)
    ecp, cov = [], []
    for ci in sorted(range(nc), key=lambda i: wb_name(w.iso3[i])):
        for y in yrs:
            on = y >= start[ci]
            price = float(w.policy[ci] * 60 * min(1.0, (y - start[ci] + 1) / 8)) if on else 0.0
            cover = float(min(0.9, w.policy[ci])) if on else 0.0
            ets, tax = (price * cover * 0.7, price * cover * 0.3)
            ecp.append(
                [
                    wb_name(w.iso3[ci]),
                    y,
                    repr(round(ets * 0.8, 6)),
                    repr(round(tax * 0.8, 6)),
                    repr(round((ets + tax) * 0.8, 6)),
                    repr(round(ets, 6)),
                    repr(round(tax, 6)),
                    repr(round(ets + tax, 6)),
                    *["NA"] * 6,
                ]
            )
            c_t, c_e = cover * 0.3, cover * 0.7
            cov.append(
                [
                    wb_name(w.iso3[ci]),
                    y,
                    repr(round(c_t * 0.8, 6)),
                    repr(round(c_t, 6)),
                    repr(round(c_t * 0.01, 6)),
                    repr(round(c_t * 0.012, 6)),
                    "NA",
                    "NA",
                    repr(round(c_e * 0.8, 6)),
                    repr(round(c_e, 6)),
                    repr(round(c_e * 0.01, 6)),
                    repr(round(c_e * 0.012, 6)),
                    "NA",
                    "NA",
                    repr(round(cover * 0.8, 6)),
                    repr(round(cover, 6)),
                    repr(round(cover * 0.01, 6)),
                    repr(round(cover * 0.012, 6)),
                    "NA",
                    "NA",
                ]
            )
    out["carbon_pricing/ecp_CO2_jurisdiction_year.csv"] = csv_bytes(ECP_HEADER, ecp)
    out["carbon_pricing/tot_coverage_jurisdiction_CO2.csv"] = csv_bytes(COVERAGE_HEADER, cov)
    return out
