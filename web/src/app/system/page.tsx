"use client";
import { Suspense } from "react";
import { Badge, Card, Kpi, State } from "@/components/ui";
import { api, unwrap, type Readiness } from "@/lib/api";
import { parsePrometheus, requestStats } from "@/lib/prometheus";
import { useAsync } from "@/lib/hooks";

async function readiness(signal: AbortSignal): Promise<Readiness> {
  // 503 answers the same shape, naming each failing check
  const r = await fetch("/ready", { signal, cache: "no-store" });
  return (await r.json()) as Readiness;
}

async function metrics(signal: AbortSignal) {
  const r = await fetch("/metrics", { signal, cache: "no-store" });
  if (!r.ok) throw new Error(`/metrics answered HTTP ${r.status}`);
  return requestStats(parsePrometheus(await r.text()));
}

function Health() {
  const ready = useAsync(["ready"], readiness, { live: true });
  const models = useAsync(["models"], async (signal) => unwrap(await api.GET("/v1/models", { signal })));
  const stats = useAsync(["metrics"], metrics, { live: true });
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">System health</h1>
      <Card title="Readiness">
        <State loading={ready.loading} error={ready.error} onRetry={ready.reload}>
          <p className="mb-2">{ready.data?.ready ? <Badge tone="green">ready</Badge> : <Badge tone="red">not ready</Badge>} {ready.data?.detail ?? ""}</p>
          <ul className="text-sm [overflow-wrap:anywhere]">
            {Object.entries(ready.data?.checks ?? {}).map(([k, c]) => (
              <li key={k}>
                {c.ok ? "✓" : "✗"} <strong>{k}</strong>: {c.detail}
              </li>
            ))}
          </ul>
        </State>
      </Card>
      <Card title="Requests (this API process)">
        <State loading={stats.loading} error={stats.error} onRetry={stats.reload}>
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Kpi label="Requests" value={stats.data ? String(stats.data.requests) : "—"} />
            <Kpi label="Mean latency" value={stats.data?.meanMs !== null && stats.data?.meanMs !== undefined ? `${stats.data.meanMs.toFixed(1)} ms` : "—"} />
            <Kpi label="5xx" value={stats.data ? String(stats.data.errors5xx) : "—"} />
            <Kpi label="Cache hit rate" value={stats.data?.cacheHitRate !== null && stats.data?.cacheHitRate !== undefined ? `${(stats.data.cacheHitRate * 100).toFixed(0)}%` : "—"} />
          </div>
        </State>
      </Card>
      <Card title="Models and the A/B split">
        <State loading={models.loading} error={models.error} onRetry={models.reload}>
          <p className="mb-2 text-sm">
            A/B: {models.data?.ab.enabled ? `on, challenger share ${(models.data.ab.challenger_share * 100).toFixed(0)}%` : "off"}
          </p>
          <div className="overflow-x-auto" role="region" aria-label="Models" tabIndex={0}>
          <table className="w-full text-left text-sm">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Kind</th>
                <th scope="col">Versions (CV AUC)</th>
                <th scope="col">Aliases</th>
              </tr>
            </thead>
            <tbody>
              {(models.data?.models ?? []).map((m) => (
                <tr key={m.name}>
                  <td>{m.name}</td>
                  <td>{m.kind ?? "—"}</td>
                  <td className="tabular-nums">{m.versions.map((v) => `v${v.version} (${v.cv_auc?.toFixed(3) ?? "—"})`).join(", ")}</td>
                  <td>{Object.entries(m.aliases).map(([a, v]) => `${a}: v${String(v)}`).join(", ")}</td>
                </tr>
              ))}
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
      <Health />
    </Suspense>
  );
}
