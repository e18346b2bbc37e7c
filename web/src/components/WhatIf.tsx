"use client";
/** What-if: pillar weights and one metric's value as sliders; each change rescores through POST /v1/score/what-if. */
import { useEffect, useMemo, useState } from "react";
import { Select } from "@/components/Select";
import { Slider } from "@/components/Slider";
import { Card, State } from "@/components/ui";
import { api, unwrap, type EntityProfile, type Horizon, type Persona, type WhatIfRequest } from "@/lib/api";
import { fmt } from "@/lib/format";
import { useAsync, useDebounced } from "@/lib/hooks";
import type { EntityKind } from "./Profile";

type PersonaItem = { id: string; weights: Record<string, number> };
type HorizonResult = { fvi?: number | null; fvi_baseline?: number | null; delta?: number | null; rank?: number | null; percentile?: number | null };

type WhatIfPersona = NonNullable<WhatIfRequest["persona"]>;
const WHATIF_PERSONAS: readonly string[] = ["analyst", "investor", "lender", "policymaker", "ngo", "community"] satisfies WhatIfPersona[];

/** The what-if route takes the fixed presets by name; any other view (data-driven weights) is sent as its weights. */
function isWhatIfPersona(p: Persona): p is Persona & WhatIfPersona {
  return WHATIF_PERSONAS.includes(p);
}

export function normalise(weights: Record<string, number>): Record<string, number> {
  const total = Object.values(weights).reduce((s, v) => s + Math.max(0, v), 0);
  if (total <= 0) return weights;
  return Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, Math.max(0, v) / total]));
}

export function WhatIfPanel({ kind, id, horizon, persona, profile }: { kind: EntityKind; id: string; horizon: Horizon; persona: Persona; profile: EntityProfile }) {
  const personas = useAsync(["personas"], async (signal) => unwrap(await api.GET("/v1/personas", { params: { query: { limit: 100 } }, signal })).items as PersonaItem[]);
  const preset = personas.data?.find((p) => p.id === persona)?.weights;
  const [weights, setWeights] = useState<Record<string, number> | null>(null);
  useEffect(() => setWeights(preset ? { ...preset } : null), [preset]);
  const metrics = useMemo(() => (profile.data_quality.metrics ?? []).filter((m) => m.value_used !== null && m.value_used !== undefined && !m.missing), [profile]);
  const [metricId, setMetricId] = useState<string>("");
  useEffect(() => setMetricId(metrics[0]?.metric_id ?? ""), [metrics]);
  const metricOptions = useMemo(() => metrics.map((m) => ({ value: m.metric_id, label: m.name ?? m.metric_id })), [metrics]);
  const metric = metrics.find((m) => m.metric_id === metricId);
  const base = metric?.value_used ?? 0;
  const span = Math.max(Math.abs(base), 1);
  const [value, setValue] = useState<number | null>(null);
  useEffect(() => setValue(null), [metricId]);

  const custom = !!weights && !!preset && Object.keys(weights).some((k) => Math.abs((weights[k] ?? 0) - (preset[k] ?? 0)) > 1e-9);
  const body: WhatIfRequest | null = useMemo(() => {
    // nothing moved yet: the published score stands, so there is nothing to rescore
    if (!custom && value === null) return null;
    const b: WhatIfRequest = { entity_type: kind, entity_id: id, horizons: [horizon] };
    if (custom && weights) b.weights = normalise(weights) as WhatIfRequest["weights"];
    else if (isWhatIfPersona(persona)) b.persona = persona;
    else if (weights) b.weights = normalise(weights) as WhatIfRequest["weights"];
    if (value !== null && metric) b.metric_values = { [metric.metric_id]: value } as WhatIfRequest["metric_values"];
    return b;
  }, [weights, value, kind, id, horizon, custom, persona, metric]);
  const debounced = useDebounced(body, 300);
  const result = useAsync(["what-if", debounced], async (signal) =>
    debounced ? unwrap(await api.POST("/v1/score/what-if", { body: debounced, signal })) : null,
  );
  const r = (result.data?.horizons[horizon] ?? undefined) as HorizonResult | undefined;
  const stored = profile.scores[horizon]?.[persona]?.fvi;
  const pillars = profile.scores[horizon]?.[persona]?.pillars ?? {};
  const scored = new Set(Object.entries(pillars).filter(([, v]) => v !== null && v !== undefined).map(([k]) => k.replace(/^pillar_/, "")));
  const unscored = Object.keys(weights ?? {}).filter((k) => !scored.has(k) && (weights?.[k] ?? 0) > 0);
  const change = r?.fvi !== null && r?.fvi !== undefined && stored !== null && stored !== undefined ? r.fvi - stored : null;

  return (
    <Card title={`What if? (${horizon})`}>
      <State loading={personas.loading} error={personas.error}>
        <fieldset className="space-y-1 text-sm">
          <legend className="font-medium">Pillar weights (normalised to sum 1)</legend>
          {weights
            ? Object.entries(weights)
                .sort(([a], [b]) => a.localeCompare(b)) // "11" would come before "01" in object order
                .map(([pid, w]) => (
                <div key={pid} className="grid grid-cols-[1fr_8rem_3rem] items-center gap-2">
                  <span className="truncate" aria-hidden="true">{profile.pillar_names[pid] ?? pid}</span>
                  <Slider
                    label={`Weight of ${profile.pillar_names[pid] ?? pid}`}
                    value={w}
                    min={0}
                    max={1}
                    step={0.01}
                    thumbProps={{ "data-testid": `weight-${pid}`, "data-has-score": scored.has(pid) ? "true" : "false" }}
                    onChange={(v) => setWeights({ ...weights, [pid]: v })}
                  />
                  <span className="tabular-nums">{w.toFixed(2)}</span>
                </div>
              ))
            : null}
        </fieldset>
        {metrics.length ? (
          <fieldset className="mt-3 space-y-1 text-sm">
            <legend className="font-medium">A metric&apos;s value</legend>
            <Select label="Metric to change" value={metricId} options={metricOptions} onChange={setMetricId} className="max-w-full" />
            {metric ? (
              <div className="grid grid-cols-[1fr_7rem] items-center gap-2">
                <Slider
                  label={`Value of ${metric.name ?? metric.metric_id}`}
                  min={base - 2 * span}
                  max={base + 2 * span}
                  step={span / 50}
                  value={value ?? base}
                  thumbProps={{ "data-testid": "metric-slider" }}
                  onChange={setValue}
                />
                <span className="tabular-nums">
                  {fmt(value ?? base, 2)} {metric.unit ?? ""}
                </span>
              </div>
            ) : null}
          </fieldset>
        ) : null}
        <div className="mt-3 rounded bg-slate-100 p-2 text-sm dark:bg-slate-800" aria-live="polite" data-testid="whatif-result">
          {!debounced ? (
            "Move a slider to rescore."
          ) : result.loading ? (
            "Rescoring…"
          ) : result.error ? (
            `What-if failed: ${result.error.message}`
          ) : r && (r.fvi === null || r.fvi === undefined) ? (
            `No FVI under these weights: the index gives no score when too much weight sits on pillars without data${unscored.length ? ` (here: ${unscored.map((k) => profile.pillar_names[k] ?? k).join(", ")})` : ""}.`
          ) : r ? (
            <>
              FVI <strong data-testid="whatif-fvi">{fmt(r.fvi)}</strong> (published {fmt(stored)}
              {change !== null ? `, change ${change >= 0 ? "+" : ""}${change.toFixed(1)}` : ""})
              {r.delta !== null && r.delta !== undefined && value !== null ? ` · metric effect ${r.delta >= 0 ? "+" : ""}${r.delta.toFixed(1)}` : ""}
              {r.rank !== null && r.rank !== undefined ? ` · rank ${r.rank}` : ""}
            </>
          ) : (
            "No result for this horizon."
          )}
        </div>
        <button type="button" className="mt-2 rounded border px-2 py-0.5 text-sm" onClick={() => { setWeights(preset ? { ...preset } : null); setValue(null); }}>
          Reset
        </button>
      </State>
    </Card>
  );
}
