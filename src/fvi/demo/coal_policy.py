"""Coal policy: the Beyond Coal phase-out timeline (OWID) and the COP26 / PPCA pledges (Klimadashboard)."""

from __future__ import annotations

import numpy as np

from fvi.demo.formats import country, csv_bytes, owid_name
from fvi.demo.world import World

PHASE_OUT_HEADER = ["Entity", "Code", "Year", "Coal Exit Timeline (Beyond Coal)"]
COP26_HEADER = [
    "state_iso",
    "state_name",
    "status_deforestation",
    "status_methane",
    "status_coal",
    "status_cars",
]


def files(w: World, rng: np.random.Generator) -> dict[str, bytes]:
    """Phase-out years and pledges, both following the country's policy stringency."""
    out: dict[str, bytes] = {}
    nc = len(w.iso3)
    # coal phase-out timeline (one row per country with a pledge; coal-free small ones too)
    phase = []
    label = {
        2025: "Phase out by 2030",
        2030: "Phase out by 2030",
        2035: "Phase out by 2040",
        2040: "Phase out by 2040",
        2049: "Phase out in 2040s",
    }
    for ci in sorted(range(nc), key=lambda i: owid_name(w.iso3[i])):
        py = int(w.phase_out[ci])
        if py:
            phase.append([owid_name(w.iso3[ci]), w.iso3[ci], py, label[py]])
    out["coal_policy/owid_coal_phase_out_timeline_beyond_coal.csv"] = csv_bytes(
        PHASE_OUT_HEADER, phase, trailing_newline=False
    )
    cop = []
    for ci in sorted(range(nc), key=lambda i: owid_name(w.iso3[i])):
        pledged = bool(w.policy[ci] > 0.5)
        coal_status = (
            "PledgedPlusPPCAUsesCoal"
            if w.policy[ci] > 0.7
            else "PledgedUsesCoal"
            if pledged
            else "NotPledgedUsesCoal"
        )
        cop.append(
            [
                country(w.iso3[ci]).alpha_2,
                owid_name(w.iso3[ci]),
                "PledgedCOP26" if rng.random() < 0.6 else "NotPledged",
                "Pledged" if pledged else "NotPledged",
                coal_status,
                "Pledged2040" if w.policy[ci] > 0.75 else "NotPledged",
            ]
        )
    out["coal_policy/klimadashboard_COP26_agreements.csv"] = csv_bytes(
        COP26_HEADER, cop, delimiter=";"
    )
    return out
