"""Issue-3 speed targets on the real warehouse (run `make run` first, or set FVI_HOME to a built home).

1. Score all entities x 3 horizons x 6 personas (target <= 2 s): cold (normalisation included) and warm.
2. Monte Carlo, 1,000 draws over every mine and country of the latest as-of year (target <= 20 s on
   2 cores), bands only and bands + Sobol indices.
Results: bench/results/scoring.json (not committed) and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from fvi.scoring.config import ScoringSpec, load_personas
from fvi.scoring.run import scorer_from_warehouse
from fvi.scoring.uncertainty import UncertaintyParams, run_uncertainty
from fvi.settings import get_settings
from fvi.warehouse import live


def timed(fn, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), min(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    settings = get_settings()
    spec = ScoringSpec.from_registry()
    personas = {p.id: p.weights for p in load_personas().values()}
    with live(settings) as wh:
        scorer = scorer_from_warehouse(wh, spec)
    sizes = {et: len(p) for et, p in scorer.panels.items()}
    latest = {et: len(p.latest_rows()) for et, p in scorer.panels.items()}

    def cold() -> None:
        scorer._scores.clear()
        scorer._pillars.clear()
        scorer.score_frame(personas)

    rows = len(scorer.score_frame(personas))
    score_cold = timed(cold, args.repeat)
    score_warm = timed(lambda: scorer.score_frame(personas), args.repeat)
    params = UncertaintyParams.from_defaults(spec.defaults.uncertainty, spec.horizons, personas)
    scorer.score_frame(personas)
    mc = timed(lambda: run_uncertainty(scorer, params, sobol=False), args.repeat)
    mc_sobol = timed(lambda: run_uncertainty(scorer, params), args.repeat)
    result = {
        "entity_years": sizes, "latest_year_entities": latest, "score_rows": rows,
        "score_cold_s": round(score_cold[0], 3), "score_warm_s": round(score_warm[0], 3),
        "mc_draws": params.draws, "mc_bands_s": round(mc[0], 2), "mc_bands_sobol_s": round(mc_sobol[0], 2),
        "sobol_evaluations": params.sobol_base_samples * 6, "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2), "repeat": args.repeat,
    }
    print(f"entities (all as-of years): {sizes}; latest year: {latest}; score rows {rows:,}")
    print(f"score all x 3 horizons x {len(personas)} personas: cold {result['score_cold_s']} s, "
          f"warm {result['score_warm_s']} s   (target <= 2 s)")
    print(f"Monte Carlo {params.draws} draws: bands {result['mc_bands_s']} s, bands + Sobol "
          f"{result['mc_bands_sobol_s']} s   (target <= 20 s)   load avg {result['load_avg_1m']}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "scoring.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
