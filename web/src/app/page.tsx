"use client";
import { useRouter } from "next/navigation";
import { Suspense, useDeferredValue, useMemo } from "react";
import { HorizonPersona, parseHorizon, parsePersona } from "@/components/Selectors";
import { Badge, Card, Kpi, State } from "@/components/ui";
import { WorldMap } from "@/components/WorldMap";
import { allCountries, api, mapMines, unwrap, type MapMine } from "@/lib/api";
import { fmt } from "@/lib/format";
import { useAsync, useQueryState } from "@/lib/hooks";

/** Mines whose FVI is below this are counted "at risk" on the overview (a display threshold, said on the card). */
const AT_RISK_FVI = 40;

function Ranking({ title, rows }: { title: string; rows: MapMine[] }) {
  return (
    <Card title={title}>
      <ol className="space-y-1 text-sm">
        {rows.map((m) => (
          <li key={m.id} className="flex justify-between gap-2">
            <a href={`/mine/?id=${encodeURIComponent(m.id)}`}>
              {m.rank ?? "—"}. {m.name ?? m.id}
            </a>
            <span className="tabular-nums">
              {m.country_iso3 ?? ""} · {fmt(m.fvi)}
            </span>
          </li>
        ))}
      </ol>
      {rows.length === 0 ? <p className="text-sm">No ranked mine.</p> : null}
    </Card>
  );
}

function Overview() {
  const [params, setParams] = useQueryState();
  const router = useRouter();
  const horizon = parseHorizon(params.get("horizon"));
  const persona = parsePersona(params.get("persona"));
  const choropleth = params.get("layer") === "countries";
  const map = useAsync(["map-mines", horizon, persona], (s) => mapMines(horizon, persona, s));
  // the 6,000-mine render (KPIs, rankings, the map's points) in a deferred, interruptible render: the query's
  // update itself is urgent (synchronous), and would otherwise hold the main thread in one long task
  const mapData = useDeferredValue(map.data);
  const mines = { ...map, data: mapData?.items, loading: map.loading || map.data !== mapData };
  const countries = useAsync(["countries", horizon, persona], (s) => allCountries(horizon, persona, s));
  const runs = useAsync(["runs", 1], async (s) => unwrap(await api.GET("/v1/runs", { params: { query: { limit: 1 } }, signal: s })));

  const stats = useMemo(() => {
    const rows = mines.data ?? [];
    const scored = rows.filter((m) => m.fvi !== null && m.fvi !== undefined);
    const ranked = scored.filter((m) => m.rank !== null && m.rank !== undefined).sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
    const atRisk = scored.filter((m) => (m.fvi ?? 100) < AT_RISK_FVI);
    return {
      scored: scored.length,
      total: rows.length,
      capacity: scored.reduce((s, m) => s + (m.capacity_mtpa ?? 0), 0),
      atRiskCapacity: atRisk.reduce((s, m) => s + (m.capacity_mtpa ?? 0), 0),
      atRiskCount: atRisk.length,
      top: ranked.slice(0, 10),
      bottom: ranked.slice(-10).reverse(),
      synthetic: mapData?.synthetic ?? false,
      asOf: mapData?.as_of_year,
    };
  }, [mines.data, mapData]);
  const countryStats = useMemo(() => {
    const rows = countries.data ?? [];
    return {
      scored: rows.filter((c) => c.fvi !== null && c.fvi !== undefined).length,
      values: Object.fromEntries(rows.map((c) => [c.id, c.fvi ?? null])),
    };
  }, [countries.data]);
  const lastRun = runs.data?.items[0] as { run_id?: string; synthetic?: boolean | null; built?: boolean | null } | undefined;
  const points = useMemo(
    () =>
      (mines.data ?? [])
        .filter((m) => m.latitude !== null && m.latitude !== undefined && m.longitude !== null && m.longitude !== undefined)
        .map((m) => ({ id: m.id, name: m.name ?? m.id, lat: m.latitude as number, lon: m.longitude as number, value: m.fvi ?? null, capacity: m.capacity_mtpa ?? null })),
    [mines.data],
  );

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-bold">Future Viability Index: overview</h1>
          <p className="text-sm text-slate-700 dark:text-slate-300">
            How likely each coal mine and country is to still be viable {horizon.slice(1)} years on ({persona} weights)
            {stats.asOf ? `, scored as of ${stats.asOf}` : ""}.
          </p>
        </div>
        <HorizonPersona horizon={horizon} persona={persona} onChange={setParams} />
      </div>
      {stats.synthetic || lastRun?.synthetic ? (
        <div role="note" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-50">
          <strong>Synthetic data.</strong> This build comes from the generated demo world: no number on this dashboard is real.
        </div>
      ) : null}
      <div className="grid grid-cols-2 gap-3 md:grid-cols-5">
        <Kpi label="Mines scored" value={mines.loading ? "…" : `${stats.scored}`} hint={`of ${stats.total} listed`} />
        <Kpi label="Countries scored" value={countries.loading ? "…" : `${countryStats.scored}`} />
        <Kpi label="Capacity scored" value={mines.loading ? "…" : `${fmt(stats.capacity, 0)} Mt/yr`} />
        <Kpi
          label={`Capacity at risk (${horizon})`}
          value={mines.loading ? "…" : `${fmt(stats.atRiskCapacity, 0)} Mt/yr`}
          hint={`${stats.atRiskCount} mines with FVI below ${AT_RISK_FVI}`}
        />
        <Kpi label="Last run" value={
            // one line whatever the id's length: the row must not grow when the run arrives (layout shift)
            <span className="block truncate text-sm" title={lastRun?.run_id}>
              {lastRun?.run_id ?? (runs.loading ? "…" : "none")}
            </span>
          } hint={lastRun ? (lastRun.built ? "built" : "not built") : undefined} />
      </div>
      <Card
        title="Mines on the map"
        actions={
          <div className="flex gap-2 text-sm" role="group" aria-label="Map layer">
            <button type="button" aria-pressed={!choropleth} onClick={() => setParams({ layer: null })} className={`rounded border px-2 py-0.5 ${!choropleth ? "bg-slate-900 text-white dark:bg-white dark:text-slate-900" : ""}`}>
              Mines
            </button>
            <button type="button" aria-pressed={choropleth} onClick={() => setParams({ layer: "countries" })} className={`rounded border px-2 py-0.5 ${choropleth ? "bg-slate-900 text-white dark:bg-white dark:text-slate-900" : ""}`}>
              Countries
            </button>
          </div>
        }
      >
        {/* the map is laid out before its data arrives (no layout shift); its mines are drawn when they come */}
        {mines.error ? <State loading={false} error={mines.error} onRetry={mines.reload}>{null}</State> : null}
        <div className="relative">
          <WorldMap
            points={choropleth ? [] : points}
            countryValues={countryStats.values}
            choropleth={choropleth}
            onSelect={(id) => router.push(`/mine/?id=${encodeURIComponent(id)}&horizon=${horizon}&persona=${persona}`)}
            onSelectCountry={(iso3) => router.push(`/country/?iso3=${iso3}&horizon=${horizon}&persona=${persona}`)}
          />
          <p className="mt-1 text-xs text-slate-700 dark:text-slate-300">
            {points.length} mines with coordinates. Click a mine for its profile{choropleth ? "; click a country for its profile" : ""}.{" "}
            {stats.synthetic ? <Badge tone="amber">synthetic</Badge> : null}
          </p>
          {mines.loading && !mines.data ? (
            <div role="status" aria-live="polite" className="absolute left-3 top-3 rounded bg-white/90 px-2 py-1 text-sm text-slate-800 dark:bg-slate-900/90 dark:text-slate-100">
              Loading mines…
            </div>
          ) : null}
        </div>
      </Card>
      <div className="grid gap-4 md:grid-cols-2">
        <State loading={mines.loading && !mines.data} error={mines.error}>
          <Ranking title={`Most viable mines (${horizon})`} rows={stats.top} />
          <Ranking title={`Least viable mines (${horizon})`} rows={stats.bottom} />
        </State>
      </div>
    </div>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <Overview />
    </Suspense>
  );
}
