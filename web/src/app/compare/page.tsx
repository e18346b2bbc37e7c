"use client";
import { useQueries } from "@tanstack/react-query";
import Link from "next/link";
import { Suspense, useState } from "react";
import { BandBar } from "@/components/Profile";
import { HorizonPersona, parseHorizon, parsePersona } from "@/components/Selectors";
import { Card, State, inputClass } from "@/components/ui";
import { HORIZONS, entityProfile, profileKey } from "@/lib/api";
import { fmt, pct } from "@/lib/format";
import { useQueryState } from "@/lib/hooks";

const MAX = 4;

/** `M0740`, `MSHA100329` or `country:ZAF` to (kind, id). */
function parseRef(ref: string): ["mine" | "country", string] {
  const [kind, id] = ref.includes(":") ? (ref.split(":", 2) as [string, string]) : ["mine", ref];
  return [kind === "country" ? "country" : "mine", id];
}

function Compare() {
  const [params, setParams] = useQueryState();
  const horizon = parseHorizon(params.get("horizon"));
  const persona = parsePersona(params.get("persona"));
  const ids = (params.get("ids") ?? "").split(",").filter(Boolean).slice(0, MAX);
  const [draft, setDraft] = useState("");
  // one cached query per entity: a profile already read (its own page, an earlier comparison) is not read again
  const queries = useQueries({
    queries: ids.map((ref) => {
      const [kind, id] = parseRef(ref);
      return { queryKey: profileKey(kind, id), queryFn: ({ signal }: { signal: AbortSignal }) => entityProfile(kind, id, signal) };
    }),
  });
  const profiles = {
    data: queries.every((q) => q.data) ? queries.map((q) => q.data!) : undefined,
    loading: queries.some((q) => q.isFetching),
    error: queries.find((q) => q.error)?.error ?? undefined,
    reload: () => queries.forEach((q) => q.error && void q.refetch()),
  };
  const add = () => {
    const v = draft.trim();
    if (v && !ids.includes(v) && ids.length < MAX) setParams({ ids: [...ids, v].join(",") });
    setDraft("");
  };
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-2xl font-bold">Compare</h1>
        <HorizonPersona horizon={horizon} persona={persona} onChange={setParams} />
      </div>
      <Card>
        <form className="flex flex-wrap items-end gap-2 text-sm" onSubmit={(e) => { e.preventDefault(); add(); }}>
          <label>
            Add a mine id (or <code>country:ISO3</code>){" "}
            <input className={inputClass} value={draft} onChange={(e) => setDraft(e.target.value)} aria-label="Mine id or country:ISO3 to compare" />
          </label>
          <button type="submit" className="rounded border px-2 py-1" disabled={ids.length >= MAX}>
            Add
          </button>
          {ids.map((i) => (
            <button key={i} type="button" className="rounded border px-2 py-1" onClick={() => setParams({ ids: ids.filter((x) => x !== i).join(",") || null })} aria-label={`Remove ${i}`}>
              {i} ✕
            </button>
          ))}
        </form>
      </Card>
      {ids.length < 2 ? <p className="text-sm">Pick two to four mines or countries (the mines table lists their ids).</p> : null}
      <State loading={profiles.loading && ids.length > 0} error={profiles.error} onRetry={profiles.reload}>
        <div className={`grid gap-4 md:grid-cols-2 ${ids.length > 2 ? "xl:grid-cols-4" : ""}`} data-testid="compare-grid">
          {(profiles.data ?? []).map((p) => {
            const b = p.scores[horizon]?.[persona];
            const m = p.prediction.horizons?.[horizon];
            return (
              <Card key={p.id} title={<Link href={p.entity_type === "country" ? `/country/?iso3=${p.id}` : `/mine/?id=${encodeURIComponent(p.id)}`}>{p.name ?? p.id}</Link>}>
                <p className="text-sm">
                  FVI ({horizon}) <strong className="tabular-nums" data-testid="compare-fvi">{fmt(b?.fvi)}</strong> · band {fmt(b?.band.p05)}–{fmt(b?.band.p95)}
                </p>
                <BandBar fvi={b?.fvi} lo={b?.band.p05} hi={b?.band.p95} label={`FVI of ${p.name ?? p.id}`} />
                <p className="mt-2 text-sm">
                  Model: P({m?.target ?? "target"}) = {pct(m?.p)} · P(viable) = {pct(m?.p_viable)}
                </p>
                <ul className="mt-2 text-xs">
                  {HORIZONS.map((h) => (
                    <li key={h}>
                      {h}: {fmt(p.scores[h]?.[persona]?.fvi)}
                    </li>
                  ))}
                </ul>
                <ul className="mt-2 text-xs">
                  {Object.entries(b?.pillars ?? {}).map(([pid, v]) => (
                    <li key={pid}>
                      {p.pillar_names[pid.replace(/^pillar_/, "")] ?? pid}: {fmt(v)}
                    </li>
                  ))}
                </ul>
              </Card>
            );
          })}
        </div>
      </State>
    </div>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <Compare />
    </Suspense>
  );
}
