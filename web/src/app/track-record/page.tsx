"use client";
import { Suspense } from "react";
import { CalibrationPlot } from "@/components/Panels";
import { Card, State } from "@/components/ui";
import { api, unwrap } from "@/lib/api";
import { useAsync } from "@/lib/hooks";

type BacktestRow = {
  scorer: string;
  model_name?: string | null;
  n?: number | null;
  n_positive?: number | null;
  auc?: number | null;
  brier?: number | null;
  ece?: number | null;
  lift_riskiest_decile?: number | null;
  auc_minus_size?: number | null;
  auc_minus_size_lo?: number | null;
  auc_minus_size_hi?: number | null;
  thin?: boolean;
  as_of_years?: string | null;
  outcome_years?: string | null;
};
type BacktestLevel = { description: string; horizons: Record<string, BacktestRow[]> };

const fmt = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? "—" : v.toFixed(d));

function scorerLabel(r: Pick<BacktestRow, "scorer" | "model_name">): string {
  if (r.scorer === "model") return `model (${r.model_name ?? "?"})`;
  if (r.scorer === "fvi") return "FVI (analyst weights)";
  if (r.scorer === "fvi_learnt") return "FVI (fitted weights)";
  if (r.scorer === "size") return "size alone";
  if (r.scorer === "equal_weight") return "equal-weight composite";
  if (r.scorer === "country_only") return "country only";
  return r.scorer;
}

function Backtest() {
  const bt = useAsync(["backtest"], async (signal) => unwrap(await api.GET("/v1/backtest", { signal })));
  const levels = (bt.data?.levels ?? {}) as Record<string, BacktestLevel>;
  return (
    <Card title="The strict back-test: what each score said as of year t, against what happened by t + H">
      <p className="mb-2 text-sm">
        Higher AUC ranks better (0.5 is a coin toss). ΔAUC vs size is paired on the same rows, with a 90 % cluster-bootstrap interval;
        ECE is the expected calibration error; lift is how much more often the riskiest 10 % failed than all rows. Rows marked thin have
        fewer than 30 failures.
      </p>
      <State
        loading={bt.loading}
        error={bt.error}
        onRetry={bt.reload}
        empty={!bt.loading && !bt.data?.available}
        emptyText={String(bt.data?.note ?? "no back-test yet")}
      >
        {Object.entries(levels).map(([level, entry]) => (
          <section key={level} className="mb-4" aria-label={`Back-test ${level}`}>
            <h3 className="font-semibold">{level}</h3>
            <p className="text-sm">{entry.description}</p>
            {Object.entries(entry.horizons).map(([h, rows]) => (
              <div key={h} className="overflow-x-auto" role="region" aria-label={`${level} at ${h} years`} tabIndex={0}>
                <table className="w-full text-left text-sm">
                  <caption className="text-left text-sm">
                    H = {h} years (as-of {rows[0]?.as_of_years ?? "?"}, outcomes {rows[0]?.outcome_years ?? "?"})
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Scorer</th>
                      <th scope="col">n</th>
                      <th scope="col">AUC</th>
                      <th scope="col">ΔAUC vs size [90 %]</th>
                      <th scope="col">Brier</th>
                      <th scope="col">ECE</th>
                      <th scope="col">Lift</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r, i) => (
                      <tr key={`${r.scorer}-${r.model_name ?? ""}-${i}`}>
                        <td>
                          {scorerLabel(r)}
                          {r.thin ? <span className="ml-1 text-xs">(thin: {(r.n ?? 0) - (r.n_positive ?? 0)} failures)</span> : null}
                        </td>
                        <td className="tabular-nums">{r.n ?? "—"}</td>
                        <td className="tabular-nums">{fmt(r.auc)}</td>
                        <td className="tabular-nums">
                          {r.auc_minus_size === null || r.auc_minus_size === undefined
                            ? "—"
                            : `${fmt(r.auc_minus_size)} [${fmt(r.auc_minus_size_lo)}, ${fmt(r.auc_minus_size_hi)}]`}
                        </td>
                        <td className="tabular-nums">{fmt(r.brier)}</td>
                        <td className="tabular-nums">{fmt(r.ece)}</td>
                        <td className="tabular-nums">{fmt(r.lift_riskiest_decile, 2)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
          </section>
        ))}
      </State>
    </Card>
  );
}

function TrackRecord() {
  const models = useAsync(["models"], async (signal) => unwrap(await api.GET("/v1/models", { signal })));
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Track record</h1>
      <Backtest />
      <CalibrationPlot scorerLabel={scorerLabel} />
      <Card title="How well the models predicted held-out years (cross-validation AUC)">
        <p className="mb-2 text-sm">
          AUC is the chance that the model ranks a mine that went on operating above one that stopped: 0.5 is a coin toss, 1.0 is perfect. The full back-test (Brier scores, calibration, the size and equal-weight baselines) is written to{" "}
          <code>gold.fvi_backtest</code> by <code>fvi backtest</code> and shown above.
        </p>
        <State loading={models.loading} error={models.error} onRetry={models.reload} empty={!models.loading && (models.data?.models.length ?? 0) === 0}>
          <div className="overflow-x-auto" role="region" aria-label="Models and their AUC" tabIndex={0}>
          <table className="w-full text-left text-sm">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Target</th>
                <th scope="col">Version</th>
                <th scope="col">CV AUC</th>
                <th scope="col">Scheme</th>
                <th scope="col">In words</th>
              </tr>
            </thead>
            <tbody>
              {(models.data?.models ?? []).flatMap((m) =>
                m.versions.map((v) => (
                  <tr key={`${m.name}-${v.version}`}>
                    <td>{m.name}</td>
                    <td>{m.target ?? "—"}</td>
                    <td>
                      v{v.version} {v.aliases.join(", ")}
                    </td>
                    <td className="tabular-nums">{v.cv_auc?.toFixed(3) ?? "—"}</td>
                    <td>{v.cv_scheme ?? "—"}</td>
                    <td>{v.cv_auc === null || v.cv_auc === undefined ? "not measured" : v.cv_auc >= 0.8 ? "strong" : v.cv_auc >= 0.7 ? "useful" : v.cv_auc > 0.55 ? "weak" : "no better than chance"}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
          </div>
        </State>
      </Card>
    </div>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <TrackRecord />
    </Suspense>
  );
}
