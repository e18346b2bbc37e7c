"use client";
import Link from "next/link";
import { Suspense, useEffect, useMemo, useState } from "react";
import { WeightsHistory } from "@/components/Panels";
import { HorizonPersona, parseHorizon, parsePersona } from "@/components/Selectors";
import { Slider } from "@/components/Slider";
import { Card, State } from "@/components/ui";
import { normalise } from "@/components/WhatIf";
import { api, unwrap } from "@/lib/api";
import { fmt } from "@/lib/format";
import { useAsync, useDebounced, useQueryState } from "@/lib/hooks";

type PersonaItem = { id: string; name?: string; weights: Record<string, number> };
type WeightHistoryRow = Parameters<typeof WeightsHistory>[0]["items"][number];
type WeightCell = { weight?: number | null; data_weight?: number | null; expert_weight?: number | null };

/** How many of the top mines are rescored live with the custom weights (each is one what-if call). */
const LIVE_TOP = 8;

function Weights() {
  const [params, setParams] = useQueryState();
  const horizon = parseHorizon(params.get("horizon"));
  const persona = parsePersona(params.get("persona"));
  const w = useAsync(["weights"], async (signal) => unwrap(await api.GET("/v1/weights", { params: { query: { limit: 500 } }, signal })) as { personas: PersonaItem[]; dynamic: { available: boolean; note?: string | null; levels: Record<string, Record<string, Record<string, WeightCell>>> }; history: { items: WeightHistoryRow[]; total: number } });
  const pillars = useAsync(["pillars"], async (signal) => unwrap(await api.GET("/v1/pillars", { params: { query: { limit: 100 } }, signal })).items as { id: string; name: string }[]);
  const names = useMemo(() => Object.fromEntries((pillars.data ?? []).map((p) => [p.id, p.name])), [pillars.data]);
  const preset = w.data?.personas.find((p) => p.id === persona)?.weights;
  const [custom, setCustom] = useState<Record<string, number> | null>(null);
  useEffect(() => setCustom(preset ? { ...preset } : null), [preset]);
  // the top of the ranking only: one page, not every mine
  const top = useAsync(
    ["top-mines", horizon, persona, LIVE_TOP],
    async (signal) =>
      unwrap(await api.GET("/v1/mines", { params: { query: { horizon, persona, limit: LIVE_TOP, sort: "rank" } }, signal })).items.filter((m) => m.rank !== null && m.rank !== undefined),
  );
  const debounced = useDebounced(custom, 400);
  const reranked = useAsync(
    ["rerank", debounced, top.data?.map((m) => m.id), horizon],
    async (signal) => {
      if (!debounced || !top.data) return null;
      const weights = normalise(debounced);
      const results = await Promise.all(
        top.data.map(async (m) => {
          const r = unwrap(await api.POST("/v1/score/what-if", { body: { entity_type: "mine", entity_id: m.id, horizons: [horizon], weights: weights as never }, signal }));
          const h = r.horizons[horizon] as { fvi?: number | null } | undefined;
          return { id: m.id, name: m.name ?? m.id, before: m.fvi ?? null, after: h?.fvi ?? null };
        }),
      );
      return results.sort((a, b) => (b.after ?? -1) - (a.after ?? -1));
    },
  );
  const levels = w.data?.dynamic.levels ?? {};
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-2xl font-bold">Weights</h1>
        <HorizonPersona horizon={horizon} persona={persona} onChange={setParams} />
      </div>
      <Card title="Dynamic weights (learnt from outcomes) against expert weights">
        <State loading={w.loading} error={w.error} onRetry={w.reload}>
          {!w.data?.dynamic.available ? (
            <p className="text-sm">{w.data?.dynamic.note ?? "No dynamic weights."}</p>
          ) : (
            Object.entries(levels).map(([level, byH]) => (
              <div key={level} className="mb-3">
                <h3 className="text-sm font-semibold">{level}</h3>
                <div className="overflow-x-auto" role="region" aria-label={`Weights: ${level}`} tabIndex={0}>
                <table className="w-full text-left text-sm">
                  <thead>
                    <tr>
                      <th scope="col">Pillar</th>
                      <th scope="col">Weight</th>
                      <th scope="col">Data-driven</th>
                      <th scope="col">Expert</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(byH[horizon] ?? {}).map(([pid, c]) => (
                      <tr key={pid}>
                        <td>{names[pid] ?? pid}</td>
                        <td className="tabular-nums">{fmt(c.weight, 3)}</td>
                        <td className="tabular-nums">{fmt(c.data_weight, 3)}</td>
                        <td className="tabular-nums">{fmt(c.expert_weight, 3)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                </div>
              </div>
            ))
          )}
        </State>
      </Card>
      <Card title="Weights over runs: expert prior, data-driven estimate, and the weight used">
        <State loading={w.loading} error={w.error} onRetry={w.reload} empty={!w.loading && (w.data?.history.items.length ?? 0) === 0} emptyText={w.data?.dynamic.note ?? "No weights history yet."}>
          <WeightsHistory items={w.data?.history.items ?? []} pillarNames={names} />
          {(w.data?.history.total ?? 0) > (w.data?.history.items.length ?? 0) ? (
            <p className="mt-1 text-xs">The newest {w.data?.history.items.length} of {w.data?.history.total} history rows.</p>
          ) : null}
        </State>
      </Card>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title={`Custom weights (start: ${persona})`}>
          {custom
            ? Object.entries(custom)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([pid, v]) => (
                <div key={pid} className="grid grid-cols-[1fr_8rem_3rem] items-center gap-2 text-sm">
                  <span className="truncate" aria-hidden="true">{names[pid] ?? pid}</span>
                  <Slider label={`Custom weight of ${names[pid] ?? pid}`} value={v} min={0} max={1} step={0.01} thumbProps={{ "data-testid": `custom-weight-${pid}` }} onChange={(x) => setCustom({ ...custom, [pid]: x })} />
                  <span className="tabular-nums">{v.toFixed(2)}</span>
                </div>
              ))
            : null}
        </Card>
        <Card title={`Top ${LIVE_TOP} mines re-ranked with the custom weights`}>
          <State loading={top.loading || reranked.loading} error={top.error ?? reranked.error} onRetry={reranked.reload}>
            <ol className="space-y-1 text-sm" data-testid="reranked">
              {(reranked.data ?? []).map((r, i) => (
                <li key={r.id} className="flex justify-between gap-2" data-mine-id={r.id}>
                  <Link href={`/mine/?id=${encodeURIComponent(r.id)}&horizon=${horizon}&persona=${persona}`}>
                    {i + 1}. {r.name}
                  </Link>
                  <span className="tabular-nums">
                    {fmt(r.before)} → <strong>{fmt(r.after)}</strong>
                  </span>
                </li>
              ))}
            </ol>
          </State>
        </Card>
      </div>
    </div>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <Weights />
    </Suspense>
  );
}
