"use client";
import { Suspense } from "react";
import { Card, State } from "@/components/ui";
import { api, unwrap } from "@/lib/api";
import { useAsync } from "@/lib/hooks";

function TrackRecord() {
  const models = useAsync(async (signal) => unwrap(await api.GET("/v1/models", { signal })), []);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Track record</h1>
      <Card title="How well the models predicted held-out years (cross-validation AUC)">
        <p className="mb-2 text-sm">
          AUC is the chance that the model ranks a mine that went on operating above one that stopped: 0.5 is a coin toss, 1.0 is perfect. The full back-test (Brier scores, calibration, the size and equal-weight baselines) is written to{" "}
          <code>gold.fvi_backtest</code> by <code>fvi backtest</code>; the API does not serve it yet.
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
