"use client";
import { useQueries } from "@tanstack/react-query";
import Link from "next/link";
import { Suspense, useMemo, useState } from "react";
import { BandBar } from "@/components/Profile";
import { HorizonPersona, parseHorizon, parsePersona } from "@/components/Selectors";
import { Card, State, inputClass } from "@/components/ui";
import { Dialog } from "@/components/Dialog";
import { HORIZONS, allCountries, entityProfile, mineTable, profileKey, type Horizon, type Persona } from "@/lib/api";
import { fmt, pct } from "@/lib/format";
import { useAsync, useQueryState } from "@/lib/hooks";

const MAX = 4;

/** `M0740`, `MSHA100329` or `country:ZAF` to (kind, id). */
function parseRef(ref: string): ["mine" | "country", string] {
  const [kind, id] = ref.includes(":") ? (ref.split(":", 2) as [string, string]) : ["mine", ref];
  return [kind === "country" ? "country" : "mine", id];
}

/**
 * Find a mine or a country by name and add it. The mines come from the mines table's one request (cached:
 * free when the table or the overview was just open); the countries from the country list.
 */
function FindDialog({ horizon, persona, taken, full, onPick }: { horizon: Horizon; persona: Persona; taken: string[]; full: boolean; onPick: (ref: string) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <Dialog
      open={open}
      onOpenChange={setOpen}
      title="Find a mine or a country"
      description="Type part of a name; pick one to add it to the comparison."
      trigger={
        <button type="button" className="rounded border px-2 py-1" disabled={full}>
          Find by name…
        </button>
      }
    >
      <FindList horizon={horizon} persona={persona} taken={taken} onPick={(ref) => { onPick(ref); setOpen(false); }} />
    </Dialog>
  );
}

function FindList({ horizon, persona, taken, onPick }: { horizon: Horizon; persona: Persona; taken: string[]; onPick: (ref: string) => void }) {
  const [q, setQ] = useState("");
  const mines = useAsync(["mine-table", "mine", horizon, persona], (s) => mineTable(horizon, persona, "mine", s));
  const countries = useAsync(["countries", horizon, persona], (s) => allCountries(horizon, persona, s));
  const needle = q.trim().toLowerCase();
  const hits = useMemo(() => {
    if (needle.length < 2) return [];
    const cs = (countries.data ?? []).filter((c) => (c.name ?? c.id).toLowerCase().includes(needle) || c.id.toLowerCase() === needle).map((c) => ({ ref: `country:${c.id}`, name: c.name ?? c.id, what: "country", fvi: c.fvi ?? null }));
    const ms = (mines.data ?? []).filter((m) => (m.name ?? "").toLowerCase().includes(needle)).map((m) => ({ ref: m.id, name: m.name ?? m.id, what: `mine · ${m.country_iso3 ?? "—"}`, fvi: m.fvi }));
    return [...cs, ...ms].filter((h) => !taken.includes(h.ref)).slice(0, 20);
  }, [needle, mines.data, countries.data, taken]);
  return (
    <div className="text-sm">
      <input className={`${inputClass} w-full`} value={q} onChange={(e) => setQ(e.target.value)} aria-label="Name of a mine or country" placeholder="at least two letters" />
      <State loading={(mines.loading && !mines.data) || (countries.loading && !countries.data)} error={mines.error ?? countries.error}>
        <ul className="mt-2 max-h-80 space-y-1 overflow-auto" aria-label="Matches" data-testid="find-matches">
          {hits.map((h) => (
            <li key={h.ref}>
              <button type="button" className="w-full rounded px-2 py-1 text-left hover:bg-slate-100 dark:hover:bg-slate-800" onClick={() => onPick(h.ref)}>
                <span className="font-medium">{h.name}</span> <span className="text-xs text-slate-700 dark:text-slate-300">{h.what} · FVI {fmt(h.fvi)}</span>
              </button>
            </li>
          ))}
        </ul>
        {needle.length >= 2 && hits.length === 0 ? <p className="mt-2">No match.</p> : null}
      </State>
    </div>
  );
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
          <FindDialog horizon={horizon} persona={persona} taken={ids} full={ids.length >= MAX} onPick={(ref) => setParams({ ids: [...ids, ref].join(",") })} />
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
