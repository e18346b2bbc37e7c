"use client";
/**
 * Panels over the dashboard read routes (/v1/dashboard/*, /v1/documents, /v1/weights history):
 * pillars against medians, production history, related documents, calibration, weights over runs,
 * quarantined rows. Each has its loading, empty and error state; each chart has its numbers in a table.
 */
import { useMemo, useState } from "react";
import { LineChart, type Series } from "@/components/LineChart";
import { DataTable } from "@/components/DataTable";
import { Select } from "@/components/Select";
import { Tabs } from "@/components/Tabs";
import { Card, State } from "@/components/ui";
import { api, unwrap, type EntityProfile, type Horizon, type Persona } from "@/lib/api";
import { fmt, fviColor } from "@/lib/format";
import { useAsync } from "@/lib/hooks";

type Medians = { pillars: string[]; global: Record<string, number | null>; n_global: number; country: Record<string, number | null> | null; n_country: number; note: string | null };

/** The entity's pillar scores beside the median of its country's mines and of every mine (or every country). */
export function PillarsVsMedians({ profile, kind, horizon, persona }: { profile: EntityProfile; kind: "mine" | "us_mine" | "country"; horizon: Horizon; persona: Persona }) {
  const identity = (profile.identity ?? {}) as Record<string, unknown>;
  const iso3 = kind !== "country" && typeof identity.country_iso3 === "string" ? identity.country_iso3 : undefined;
  const med = useAsync(
    ["pillar-medians", kind, horizon, persona, iso3],
    async (signal) =>
      unwrap(await api.GET("/v1/dashboard/pillar-medians", { params: { query: { entity_type: kind, horizon, persona, country: iso3 } }, signal })) as unknown as Medians,
  );
  const b = profile.scores[horizon]?.[persona];
  const entries = Object.entries(b?.pillars ?? {});
  const peers = kind === "country" ? "countries" : "mines";
  return (
    <Card title={`Pillars against the medians (${horizon}, ${persona})`}>
      {entries.length === 0 ? (
        <p className="text-sm">No pillar scores.</p>
      ) : (
        <>
          <p className="mb-2 text-xs text-slate-700 dark:text-slate-300">
            Bar: this {kind === "country" ? "country" : "mine"}. <span aria-hidden="true">▼</span> median of all {med.data?.n_global ?? "…"} {peers}
            {iso3 ? (
              <>
                ; <span aria-hidden="true">◆</span> median of the {med.data?.n_country ?? "…"} scored mines in {iso3}
              </>
            ) : null}
            .
          </p>
          {med.error ? <p className="mb-2 text-xs">Medians could not load: {med.error.message}</p> : null}
          <table className="w-full text-sm" data-testid="pillar-medians">
            <caption className="sr-only">Pillar scores against the medians</caption>
            <thead className="text-left text-xs">
              <tr>
                <th scope="col">Pillar</th>
                <th scope="col" className="text-right">Score</th>
                {iso3 ? <th scope="col" className="text-right">{iso3}</th> : null}
                <th scope="col" className="text-right">All</th>
                <th scope="col" className="w-2/5">
                  <span className="sr-only">Chart</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([pid, v]) => {
                const key = pid.replace(/^pillar_/, "");
                const g = med.data?.global[key];
                const c = med.data?.country?.[key];
                return (
                  <tr key={pid}>
                    <td>{profile.pillar_names[key] ?? pid}</td>
                    <td className="text-right tabular-nums">{fmt(v)}</td>
                    {iso3 ? <td className="text-right tabular-nums">{med.loading ? "…" : fmt(c)}</td> : null}
                    <td className="text-right tabular-nums">{med.loading ? "…" : fmt(g)}</td>
                    <td className="pl-2">
                      <span aria-hidden="true" className="relative block h-3 rounded bg-slate-200 dark:bg-slate-700">
                        <span className="block h-3 rounded" style={{ width: `${v ?? 0}%`, background: fviColor(v) }} />
                        {typeof g === "number" ? <span className="absolute -top-2 text-[10px] leading-none" style={{ left: `calc(${g}% - 4px)` }}>▼</span> : null}
                        {typeof c === "number" ? <span className="absolute top-0.5 text-[10px] leading-none" style={{ left: `calc(${c}% - 4px)` }}>◆</span> : null}
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </Card>
  );
}

type Production = { series: Record<string, string>; items: Record<string, number | null>[]; note: string | null };
const SERIES_COLOURS = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c"];

/** Production per year by source (GEM, EIA, Climate TRACE) in Mt. */
export function ProductionHistory({ id }: { id: string }) {
  const prod = useAsync(
    ["production", id],
    async (signal) => unwrap(await api.GET("/v1/dashboard/production/{mine_id}", { params: { path: { mine_id: id } }, signal })) as unknown as Production,
  );
  const series: Series[] = useMemo(() => {
    const d = prod.data;
    if (!d) return [];
    return Object.entries(d.series)
      .map(([key, label], i) => ({
        label,
        colour: SERIES_COLOURS[i % SERIES_COLOURS.length]!,
        points: d.items.filter((r) => typeof r[key] === "number").map((r) => [r.year as number, r[key] as number] as [number, number]),
      }))
      .filter((s) => s.points.length > 0);
  }, [prod.data]);
  const rows = (prod.data?.items ?? []).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "number" && k !== "year" ? Number(v.toFixed(3)) : v])));
  return (
    <Card title="Production history (Mt per year)">
      <State loading={prod.loading} error={prod.error} onRetry={prod.reload} empty={!prod.loading && series.length === 0} emptyText={prod.data?.note ?? "No production figure."}>
        <LineChart series={series} label={`Production of ${id} per year by source`} yLabel="Mt" testId="production-chart" />
        <details className="mt-2 text-xs">
          <summary className="cursor-pointer">The numbers</summary>
          <DataTable rows={rows} caption="Production per year" />
        </details>
      </State>
    </Card>
  );
}

type Doc = { doc_id: string; kind?: string | null; title?: string | null; source_url?: string | null; licence?: string | null; n_chunks?: number | null };

/** Documents the chat index holds about this mine or country (fact sheets, wiki pages, reports). */
export function RelatedDocuments({ kind, id }: { kind: "mine" | "country"; id: string }) {
  const docs = useAsync(
    ["documents", kind, id],
    async (signal) => unwrap(await api.GET("/v1/documents", { params: { query: { entity: `${kind}:${id}`, limit: 50 } }, signal })) as unknown as { items: Doc[]; total: number; note?: string | null },
  );
  const items = docs.data?.items ?? [];
  return (
    <Card title="Related documents">
      <State loading={docs.loading} error={docs.error} onRetry={docs.reload} empty={!docs.loading && items.length === 0} emptyText={docs.data?.note ?? "No document about it is indexed yet."}>
        <ul className="space-y-1 text-sm" data-testid="related-documents">
          {items.map((d) => (
            <li key={d.doc_id}>
              <span className="font-medium">{d.title ?? d.doc_id}</span>
              <span className="text-xs text-slate-700 dark:text-slate-300">
                {" "}
                · {d.kind ?? "document"}
                {d.n_chunks ? ` · ${d.n_chunks} passages` : ""}
                {d.licence ? ` · ${d.licence}` : ""}
              </span>
              {d.source_url ? (
                <a className="ml-1 text-xs" href={d.source_url}>
                  source
                </a>
              ) : null}
              <a className="ml-1 text-xs" href={`/chat/?entity=${kind}:${encodeURIComponent(id)}&q=${encodeURIComponent(`What does "${d.title ?? d.doc_id}" say?`)}`}>
                ask the chat
              </a>
            </li>
          ))}
        </ul>
        {(docs.data?.total ?? 0) > items.length ? <p className="mt-1 text-xs">{items.length} of {docs.data?.total} shown.</p> : null}
      </State>
    </Card>
  );
}

type CalScorer = { scorer: string; model_name?: string | null; ece?: number | null; bins: { bin: number; p_mean: number | null; observed: number | null; n: number }[] };
type Calibration = { available: boolean; run_id: string | null; note: string | null; levels: Record<string, Record<string, CalScorer[]>> };

/** Reliability diagram per level and horizon: mean predicted P(viable) per bin against the share that stayed viable. */
export function CalibrationPlot({ scorerLabel }: { scorerLabel: (s: { scorer: string; model_name?: string | null }) => string }) {
  const cal = useAsync(["calibration"], async (signal) => unwrap(await api.GET("/v1/dashboard/calibration", { signal })) as unknown as Calibration);
  const all = Object.entries(cal.data?.levels ?? {});
  const [chosen, setChosen] = useState<string | null>(null);
  const level = chosen ?? all[0]?.[0] ?? "";
  const figures = (level: string, horizons: Record<string, CalScorer[]>) => (
    <div className="grid gap-4 md:grid-cols-2">
      {Object.entries(horizons).map(([h, scorers]) => (
        <figure key={`${level}-${h}`} aria-label={`Calibration ${level} at ${h} years`}>
          <figcaption className="text-sm font-medium">
            {level}, H = {h} years
          </figcaption>
          <LineChart
            series={scorers.map((s, i) => ({
              label: `${scorerLabel(s)}${s.ece !== null && s.ece !== undefined ? ` (ECE ${s.ece.toFixed(3)})` : ""}`,
              colour: SERIES_COLOURS[i % SERIES_COLOURS.length]!,
              points: s.bins.filter((b) => b.p_mean !== null && b.observed !== null).map((b) => [b.p_mean as number, b.observed as number] as [number, number]),
            }))}
            label={`Reliability diagram: ${level} at ${h} years`}
            xDomain={[0, 1]}
            yDomain={[0, 1]}
            diagonal
            xLabel="predicted P(viable)"
            yLabel="observed"
          />
        </figure>
      ))}
    </div>
  );
  return (
    <Card title="Calibration: predicted against observed">
      <p className="mb-2 text-sm">
        Each point is one tenth of the back-test rows, sorted by the probability of staying viable the scorer gave them: across, the mean
        probability; up, the share that did stay viable. A calibrated scorer sits on the diagonal; above it, the scorer was too pessimistic.
      </p>
      <State loading={cal.loading} error={cal.error} onRetry={cal.reload} empty={!cal.loading && all.length === 0} emptyText={cal.data?.note ?? "No calibration bins."}>
        <div data-testid="calibration">
          {/* one tab per set of outcomes (levels); only the open one's charts are drawn */}
          <Tabs label="Outcomes" value={level} onChange={setChosen} tabs={all.map(([l, horizons]) => ({ value: l, content: figures(l, horizons) }))} />
        </div>
      </State>
    </Card>
  );
}

type WeightRow = { run_id: string; level?: string | null; horizon: string; pillar: string; weight: number | null; data_weight?: number | null; expert_weight?: number | null; computed_at?: string | null };

/** Dynamic weights over runs: expert prior, data-driven estimate and the blend, per level, horizon and pillar. */
export function WeightsHistory({ items, pillarNames }: { items: WeightRow[]; pillarNames: Record<string, string> }) {
  const levels = useMemo(() => [...new Set(items.map((r) => r.level ?? "default"))].sort(), [items]);
  const horizons = useMemo(() => [...new Set(items.map((r) => r.horizon))].sort(), [items]);
  const [level, setLevel] = useState<string | null>(null);
  const [horizon, setHorizon] = useState<string | null>(null);
  const lv = level ?? levels[0];
  const hz = horizon ?? horizons[0];
  const rows = items.filter((r) => (r.level ?? "default") === lv && r.horizon === hz);
  const runs = [...new Set(rows.map((r) => r.run_id))].sort();
  const pillars = [...new Set(rows.map((r) => r.pillar))].sort();
  const series: Series[] = pillars.map((p, i) => ({
    label: pillarNames[p] ?? p,
    colour: SERIES_COLOURS[i % SERIES_COLOURS.length]!,
    dashed: i >= SERIES_COLOURS.length,
    points: runs.map((run, k) => [k, rows.find((r) => r.run_id === run && r.pillar === p)?.weight ?? NaN] as [number, number]).filter(([, y]) => Number.isFinite(y)),
  }));
  const latest = runs[runs.length - 1];
  const table = rows
    .filter((r) => r.run_id === latest)
    .map((r) => ({ pillar: pillarNames[r.pillar] ?? r.pillar, expert: fmt(r.expert_weight, 3), data_driven: fmt(r.data_weight, 3), used: fmt(r.weight, 3) }));
  if (items.length === 0) return <p className="text-sm">No weights history yet: the weights job has not run.</p>;
  return (
    <div data-testid="weights-history">
      <div className="mb-2 flex flex-wrap gap-3 text-sm">
        <span className="flex items-center gap-1">
          <span aria-hidden="true">Outcomes</span>
          <Select label="Outcomes" value={lv ?? ""} options={levels.map((l) => ({ value: l }))} onChange={setLevel} />
        </span>
        <span className="flex items-center gap-1">
          <span aria-hidden="true">Horizon</span>
          <Select label="Horizon of the weights" value={hz ?? ""} options={horizons.map((h) => ({ value: h }))} onChange={setHorizon} />
        </span>
      </div>
      <p className="mb-1 text-xs text-slate-700 dark:text-slate-300">
        {runs.length} run{runs.length === 1 ? "" : "s"}, oldest to newest{runs.length === 1 ? " (one point each until the next run)" : ""}.
      </p>
      <LineChart series={series} label={`Pillar weights over runs (${lv}, ${hz})`} xTicks={runs.map((r) => r.slice(0, 8))} yLabel="weight" />
      <h3 className="mt-3 text-sm font-semibold">Latest run: expert prior against the data-driven estimate</h3>
      <DataTable rows={table} caption={`Weights of run ${latest ?? "—"}`} />
    </div>
  );
}

type Quarantine = { items: Record<string, unknown>[]; total: number; counts: { source_id: string; reason: string; n: number }[]; note: string | null };

/** Rows the ingest could not read, with the reason: nothing is dropped silently, and here is where they are. */
export function QuarantinedRows() {
  const [offset, setOffset] = useState(0);
  const q = useAsync(
    ["quarantine", offset],
    async (signal) => unwrap(await api.GET("/v1/dashboard/quarantine", { params: { query: { limit: 50, offset } }, signal })) as unknown as Quarantine,
  );
  const total = q.data?.total ?? 0;
  return (
    <Card title="Quarantined rows">
      <p className="mb-2 text-sm">Rows that could not be read at ingest, kept with the reason (bronze.quarantine), newest run first.</p>
      <State loading={q.loading && !q.data} error={q.error} onRetry={q.reload} empty={!q.loading && total === 0} emptyText={q.data?.note ?? "No row was quarantined."}>
        <div data-testid="quarantine">
          <DataTable rows={q.data?.counts ?? []} caption="Quarantined rows per source and reason" />
          <DataTable
            rows={(q.data?.items ?? []).map((r) => ({ ...r, raw_record: String(r.raw_record ?? "").slice(0, 160) }))}
            caption={`Rows ${offset + 1}–${Math.min(offset + 50, total)} of ${total}`}
          />
          <div className="mt-2 flex gap-2 text-sm">
            <button type="button" className="rounded border px-2 py-0.5 disabled:opacity-50" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - 50))}>
              Previous
            </button>
            <button type="button" className="rounded border px-2 py-0.5 disabled:opacity-50" disabled={offset + 50 >= total} onClick={() => setOffset(offset + 50)}>
              Next
            </button>
          </div>
        </div>
      </State>
    </Card>
  );
}
