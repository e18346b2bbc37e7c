"use client";
/** One entity's profile (mine, US mine or country): FVI per horizon with band, P(operating), pillars, drivers, what-if. */
import Link from "next/link";
import { useMemo, useState } from "react";
import { ChatPanel } from "@/components/Chat";
import { PillarsVsMedians, ProductionHistory, RelatedDocuments } from "@/components/Panels";
import { HorizonPersona } from "@/components/Selectors";
import { Badge, Card, State } from "@/components/ui";
import { WhatIfPanel } from "@/components/WhatIf";
import { HORIZONS, api, entityProfile, profileKey, unwrap, type EntityProfile, type Horizon, type Persona } from "@/lib/api";
import { fmt, fviColor, pct } from "@/lib/format";
import { useAsync } from "@/lib/hooks";

export type EntityKind = "mine" | "us_mine" | "country";

export function BandBar({ fvi, lo, hi, label }: { fvi: number | null | undefined; lo?: number | null; hi?: number | null; label: string }) {
  const has = fvi !== null && fvi !== undefined;
  return (
    <div className="flex items-center gap-2" aria-label={label}>
      <div className="relative h-3 w-full rounded bg-slate-200 dark:bg-slate-700">
        {lo !== null && lo !== undefined && hi !== null && hi !== undefined ? (
          <div className="absolute h-3 rounded bg-slate-400/70 dark:bg-slate-400/50" style={{ left: `${lo}%`, width: `${Math.max(0.5, hi - lo)}%` }} title={`band ${fmt(lo)}–${fmt(hi)}`} />
        ) : null}
        {has ? <div className="absolute top-[-3px] h-[18px] w-1.5 rounded" style={{ left: `calc(${fvi}% - 3px)`, background: fviColor(fvi) }} /> : null}
      </div>
    </div>
  );
}

function ScoresByHorizon({ profile, persona, horizon }: { profile: EntityProfile; persona: Persona; horizon: Horizon }) {
  return (
    <Card title="FVI per horizon">
      <table className="w-full text-sm">
        <caption className="sr-only">FVI per horizon with its Monte Carlo band (5th–95th percentile)</caption>
        <thead>
          <tr className="text-left">
            <th scope="col">Horizon</th>
            <th scope="col">FVI</th>
            <th scope="col">Band (p05–p95)</th>
            <th scope="col" className="w-1/2">
              <span className="sr-only">Band chart</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {HORIZONS.map((h) => {
            const b = profile.scores[h]?.[persona];
            return (
              <tr key={h} className={h === horizon ? "font-semibold" : undefined} data-testid={`fvi-${h}`}>
                <td>{h.slice(1)} y</td>
                <td className="tabular-nums">{fmt(b?.fvi)}</td>
                <td className="tabular-nums">
                  {b?.band.p05 !== null && b?.band.p05 !== undefined ? `${fmt(b.band.p05)}–${fmt(b.band.p95)}` : "—"}
                </td>
                <td>
                  <BandBar fvi={b?.fvi} lo={b?.band.p05} hi={b?.band.p95} label={`FVI ${h}: ${fmt(b?.fvi)}`} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {profile.scores[horizon]?.[persona]?.band_explained?.text ? (
        <p className="mt-2 text-xs text-slate-600 dark:text-slate-300" data-testid="band-explained">
          {profile.scores[horizon]?.[persona]?.band_explained?.text}
        </p>
      ) : null}
      <ViableFromFvi block={profile.scores[horizon]?.[persona]} horizon={horizon} />
    </Card>
  );
}

function ViableFromFvi({ block, horizon }: { block: EntityProfile["scores"][string][string] | undefined; horizon: Horizon }) {
  const v = block?.viable_from_fvi;
  if (!v) return null;
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? "—" : `${Math.round(x * 100)} %`);
  return (
    <p className="mt-2 text-xs text-slate-600 dark:text-slate-300" data-testid="viable-from-fvi">
      Read as a probability: of {v.n_labels.toLocaleString("en")} past cases ({v.label_years}), {pct(v.p)} of those
      with this FVI were still viable {horizon.slice(1)} years later (band {pct(v.lo)}–{pct(v.hi)}).
    </p>
  );
}

function Probability({ profile }: { profile: EntityProfile }) {
  const p = profile.prediction;
  const rows = HORIZONS.map((h) => [h, p.horizons?.[h]] as const).filter(([, v]) => v);
  const isCountry = profile.entity_type === "country";
  return (
    <Card title={isCountry ? "Model: probability of coal decline" : "Model: P(operating)"}>
      {!p.available || rows.length === 0 ? (
        <p className="text-sm">{p.note ?? "No model prediction for this entity."}</p>
      ) : (
        <div className="overflow-x-auto" role="region" aria-label="Model probabilities" tabIndex={0}>
        <table className="w-full text-sm">
          <thead>
            <tr className="text-left">
              <th scope="col">Horizon</th>
              <th scope="col">Probability</th>
              <th scope="col">Credible interval</th>
              <th scope="col">P(viable)</th>
              <th scope="col">Model</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([h, m]) => (
              <tr key={h} data-testid={`p-${h}`}>
                <td>{h.slice(1)} y</td>
                <td className="tabular-nums">
                  P({m?.target ?? "target"}) = {pct(m?.p)}
                </td>
                <td className="tabular-nums">
                  {m?.p_lo !== null && m?.p_lo !== undefined ? `${pct(m.p_lo)}–${pct(m.p_hi)}` : "—"}
                  {m?.interval_method ? <span className="ml-1 text-xs text-slate-600 dark:text-slate-300">({m.interval_method})</span> : null}
                </td>
                <td className="tabular-nums">{pct(m?.p_viable)}</td>
                <td className="text-xs">
                  {m?.model_name ?? "—"} {m?.model_version ? `v${m.model_version}` : ""} {m?.is_published === false ? <Badge tone="amber">not published</Badge> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      {p.note && rows.length ? <p className="mt-2 text-xs text-slate-700 dark:text-slate-300">{p.note}</p> : null}
    </Card>
  );
}

type ScoreDriver = {
  metric_id: string;
  name?: string | null;
  pillar?: string | null;
  metric_of?: string | null;
  value_text?: string | null;
  typical_text?: string | null;
  imputation?: string | null;
  points: number;
  text: string;
};
type ScoreDriversBlock = {
  available?: boolean;
  note?: string | null;
  method?: string;
  horizons?: Record<string, { persona: string; drivers: ScoreDriver[] }>;
};

/** The score's own drivers (points against the typical entity), largest first, as a diverging bar list. */
export function ScoreDrivers({ profile, horizon }: { profile: Pick<EntityProfile, "score_drivers" | "pillar_names" | "entity_type">; horizon: Horizon }) {
  const sd = (profile.score_drivers ?? {}) as ScoreDriversBlock;
  const block = sd.horizons?.[horizon];
  const drivers = [...(block?.drivers ?? [])].sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
  const maxAbs = Math.max(1e-9, ...drivers.map((d) => Math.abs(d.points)));
  const other = Object.keys(sd.horizons ?? {}).filter((h) => h !== horizon);
  const typical = profile.entity_type === "country" ? "country" : "mine";
  return (
    <Card title={`What moves the score (${horizon})`}>
      {!sd.available ? (
        <p className="text-sm">{sd.note ?? "No score drivers for this entity."}</p>
      ) : drivers.length === 0 ? (
        <p className="text-sm">
          No drivers stored at {horizon}.{other.length ? ` Pick ${other.join(" or ")} to see them.` : ""}
        </p>
      ) : (
        <>
          <p className="mb-2 text-xs text-slate-700 dark:text-slate-300">
            FVI points each metric adds or removes against the typical {typical} (persona {block?.persona}), largest first.
          </p>
          <ol className="space-y-2 text-sm" aria-label={`Score drivers at ${horizon}`} data-testid="score-drivers">
            {drivers.map((d, i) => {
              const up = d.points >= 0;
              const width = (50 * Math.abs(d.points)) / maxAbs;
              const pillar = d.pillar ? profile.pillar_names[d.pillar] : null;
              return (
                <li key={`${d.metric_id}-${d.metric_of ?? ""}`} data-testid="score-driver" title={d.text}>
                  <div className="grid grid-cols-[1.25rem_minmax(0,1fr)_4.5rem] items-baseline gap-x-2 sm:grid-cols-[1.25rem_minmax(0,1fr)_4.5rem_35%]">
                    <span className="text-xs tabular-nums text-slate-700 dark:text-slate-300">{i + 1}.</span>
                    <span>
                      <span className="font-medium">{d.name ?? d.metric_id}</span>
                      {d.metric_of === "country" ? <span className="text-slate-700 dark:text-slate-300"> (its country)</span> : null}
                      <span className="block text-xs text-slate-700 dark:text-slate-300">
                        {d.value_text ?? "—"} vs typical {d.typical_text ?? "—"}
                        {pillar ? ` · ${pillar}` : ""}
                        {d.imputation && d.imputation !== "observed" ? ` · imputed (${d.imputation.replace(/_/g, " ")})` : ""}
                      </span>
                    </span>
                    <span className={`text-right font-semibold tabular-nums ${up ? "text-green-800 dark:text-green-300" : "text-red-800 dark:text-red-300"}`}>
                      {up ? "+" : "−"}
                      {Math.abs(d.points).toFixed(1)}
                      <span className="sr-only"> points: {up ? "raises" : "lowers"} the score</span>
                    </span>
                    <span aria-hidden="true" className="relative col-span-3 mt-1 h-2.5 rounded bg-slate-100 dark:bg-slate-800 sm:col-span-1 sm:mt-0">
                      <span className="absolute inset-y-0 left-1/2 w-px bg-slate-400" />
                      <span
                        className="absolute inset-y-0 rounded"
                        style={{ left: up ? "50%" : `${50 - width}%`, width: `${width}%`, background: up ? "#15803d" : "#b91c1c" }}
                      />
                    </span>
                  </div>
                </li>
              );
            })}
          </ol>
          <details className="mt-2 text-xs">
            <summary className="cursor-pointer">In words</summary>
            <ul className="mt-1 list-disc space-y-0.5 pl-5">
              {drivers.map((d) => (
                <li key={`${d.metric_id}-${d.metric_of ?? ""}-t`}>{d.text}</li>
              ))}
            </ul>
          </details>
        </>
      )}
    </Card>
  );
}

function Drivers({ kind, id, horizon }: { kind: EntityKind; id: string; horizon: Horizon }) {
  const ex = useAsync(["explain", kind, id, horizon], async (signal) =>
    unwrap(await api.GET("/v1/explain/{entity_type}/{entity_id}", { params: { path: { entity_type: kind, entity_id: id }, query: { horizon, top: 8 } }, signal })),
  );
  const feats = useMemo(() => [...(ex.data?.features ?? [])].sort((a, b) => Math.abs(b.shap) - Math.abs(a.shap)).slice(0, 10), [ex.data]);
  const maxAbs = Math.max(1e-9, ...feats.map((f) => Math.abs(f.shap)));
  return (
    <Card title={`Why: the model's drivers (${horizon})`}>
      <State loading={ex.loading} error={ex.error} onRetry={ex.reload} empty={!ex.loading && feats.length === 0}>
        {ex.data?.summary ? <p className="mb-2 text-sm">{ex.data.summary}</p> : null}
        <ul className="space-y-1 text-sm" aria-label="SHAP contributions">
          {feats.map((f) => (
            <li key={f.feature} className="grid grid-cols-[1fr_4rem_40%] items-center gap-2">
              <span className="truncate" title={f.name}>{f.name}</span>
              <span className="text-right tabular-nums">{f.shap > 0 ? "+" : ""}{f.shap.toFixed(2)}</span>
              <span className="relative h-2.5">
                <span className="absolute top-0 h-2.5 rounded" style={{ left: f.shap >= 0 ? "50%" : `${50 - (50 * Math.abs(f.shap)) / maxAbs}%`, width: `${(50 * Math.abs(f.shap)) / maxAbs}%`, background: f.shap >= 0 ? "#15803d" : "#b91c1c" }} />
              </span>
            </li>
          ))}
        </ul>
        {(ex.data?.top_drivers ?? []).length ? (
          <ul className="mt-2 list-disc pl-5 text-sm">
            {(ex.data?.top_drivers ?? []).map((d) => (
              <li key={d.feature}>{d.text}</li>
            ))}
          </ul>
        ) : null}
        {ex.data ? <p className="mt-2 text-xs text-slate-700 dark:text-slate-300">{ex.data.output_meaning} · {ex.data.model_name} v{ex.data.model_version}</p> : null}
      </State>
    </Card>
  );
}

function Quality({ profile }: { profile: EntityProfile }) {
  const dq = profile.data_quality;
  const metrics = dq.metrics ?? [];
  return (
    <Card title="Data quality">
      <p className="text-sm">Imputed share: {pct(dq.imputed_share)}{dq.note ? ` · ${dq.note}` : ""}</p>
      {dq.counts ? (
        <p className="mt-1 flex flex-wrap gap-1 text-xs">
          {Object.entries(dq.counts).map(([k, v]) => (
            <Badge key={k}>{`${k}: ${String(v)}`}</Badge>
          ))}
        </p>
      ) : null}
      {metrics.length ? (
        <details className="mt-2 text-sm">
          <summary>Metrics ({metrics.length})</summary>
          <div className="overflow-x-auto" role="region" aria-label="Metrics" tabIndex={0}>
          <table className="mt-1 w-full text-xs">
            <thead>
              <tr className="text-left">
                <th scope="col">Metric</th>
                <th scope="col">Value used</th>
                <th scope="col">Score</th>
                <th scope="col">How</th>
              </tr>
            </thead>
            <tbody>
              {metrics.map((m) => (
                <tr key={m.metric_id}>
                  <td>{m.name ?? m.metric_id}</td>
                  <td className="tabular-nums">{fmt(m.value_used, 2)} {m.unit ?? ""}</td>
                  <td className="tabular-nums">{fmt(m.score)}</td>
                  <td>{m.missing ? "missing" : (m.imputation ?? (m.imputed ? "imputed" : "observed"))}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        </details>
      ) : null}
    </Card>
  );
}

function Provenance({ profile }: { profile: EntityProfile }) {
  const pv = profile.provenance;
  return (
    <Card title="Provenance">
      <p className="break-all text-xs">Run {pv.run_id ?? "—"} · registry {pv.registry_hash?.slice(0, 12) ?? "—"}</p>
      <ul className="mt-2 space-y-1 text-xs">
        {(pv.sources ?? []).map((s) => (
          <li key={`${s.source_id}-${s.dataset ?? ""}`}>
            <strong>{s.source_id}</strong> {s.dataset ?? ""} {s.release ? `(${s.release})` : ""} ·{" "}
            {s.licence_url ? <a href={s.licence_url}>{s.licence_name ?? "licence"}</a> : (s.licence_name ?? "licence unknown")}
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** The chat scoped to this mine or country (the chat page has the same panel for any question). */
function AskAbout({ kind, id, name }: { kind: "mine" | "country"; id: string; name: string }) {
  const [question, setQuestion] = useState<string | null>(null);
  return (
    <Card title={`Ask about ${name}`} className="lg:col-span-2" actions={<Link href={`/chat/?entity=${kind}:${encodeURIComponent(id)}${question ? `&q=${encodeURIComponent(question)}` : ""}`} className="text-sm">Open in the chat page</Link>}>
      <ChatPanel question={question} onSubmit={setQuestion} entity={{ type: kind, id }} entityLabel={name} headingLevel={3} />
    </Card>
  );
}

export function Profile({ kind, id, horizon, persona, onChange }: { kind: EntityKind; id: string; horizon: Horizon; persona: Persona; onChange: (patch: Record<string, string>) => void }) {
  const prof = useAsync(profileKey(kind, id), (signal) => entityProfile(kind, id, signal));
  const p = prof.data;
  const identity = (p?.identity ?? {}) as Record<string, unknown>;
  const iso3 = typeof identity.country_iso3 === "string" ? identity.country_iso3 : null;
  return (
    <div className="space-y-4">
      <State loading={prof.loading} error={prof.error} onRetry={prof.reload}>
        {p ? (
          <>
            <div className="flex flex-wrap items-end justify-between gap-3">
              <div>
                <h1 className="text-2xl font-bold">{p.name ?? p.id}</h1>
                <p className="text-sm text-slate-700 dark:text-slate-300">
                  {kind === "country" ? "Country" : kind === "us_mine" ? "US mine (EIA)" : "Mine"} {p.id}
                  {iso3 && kind !== "country" ? (
                    <>
                      {" "}· <Link href={`/country/?iso3=${iso3}&horizon=${horizon}&persona=${persona}`}>{iso3}</Link>
                    </>
                  ) : null}
                  {typeof identity.status === "string" ? ` · ${identity.status}` : ""}
                  {typeof identity.capacity_mtpa === "number" ? ` · ${fmt(identity.capacity_mtpa)} Mt/yr` : ""}
                  {p.as_of_year ? ` · scored as of ${p.as_of_year}` : ""} {p.provenance.is_synthetic ? <Badge tone="amber">synthetic data</Badge> : null}
                </p>
              </div>
              <HorizonPersona horizon={horizon} persona={persona} onChange={onChange} />
            </div>
            <div className="grid gap-4 lg:grid-cols-2">
              <ScoresByHorizon profile={p} persona={persona} horizon={horizon} />
              <Probability profile={p} />
              <PillarsVsMedians profile={p} kind={kind} horizon={horizon} persona={persona} />
              <ScoreDrivers profile={p} horizon={horizon} />
              <WhatIfPanel kind={kind} id={p.id} horizon={horizon} persona={persona} profile={p} />
              <Drivers kind={kind} id={p.id} horizon={horizon} />
              <Quality profile={p} />
              <Provenance profile={p} />
              {kind !== "country" ? <ProductionHistory id={p.id} /> : null}
              {kind !== "us_mine" ? <RelatedDocuments kind={kind} id={p.id} /> : null}
              {kind !== "us_mine" ? <AskAbout kind={kind} id={p.id} name={p.name ?? p.id} /> : null}
            </div>
          </>
        ) : null}
      </State>
    </div>
  );
}
