"use client";
import { useRouter } from "next/navigation";
import { Suspense, useMemo } from "react";
import { Profile } from "@/components/Profile";
import { parseHorizon, parsePersona } from "@/components/Selectors";
import { Card, State } from "@/components/ui";
import { WorldMap } from "@/components/WorldMap";
import { api, unwrap, type Horizon, type Persona } from "@/lib/api";
import { useAsync, useQueryState } from "@/lib/hooks";

function CountryMines({ iso3, horizon, persona }: { iso3: string; horizon: Horizon; persona: Persona }) {
  const router = useRouter();
  const mines = useAsync(
    ["country-mines", iso3, horizon, persona],
    async (signal) => unwrap(await api.GET("/v1/mines", { params: { query: { country: iso3, horizon, persona, limit: 500 } }, signal })),
  );
  const points = useMemo(
    () =>
      (mines.data?.items ?? [])
        .filter((m) => m.latitude !== null && m.latitude !== undefined && m.longitude !== null && m.longitude !== undefined)
        .map((m) => ({ id: m.id, name: m.name ?? m.id, lat: m.latitude as number, lon: m.longitude as number, value: m.fvi ?? null, capacity: m.capacity_mtpa ?? null })),
    [mines.data],
  );
  return (
    <Card title={`Mines in ${iso3}`}>
      <State loading={mines.loading} error={mines.error} onRetry={mines.reload} empty={!mines.loading && (mines.data?.total ?? 0) === 0}>
        <WorldMap points={points} label={`Mines in ${iso3}`} onSelect={(id) => router.push(`/mine/?id=${encodeURIComponent(id)}&horizon=${horizon}&persona=${persona}`)} />
        <p className="mt-1 text-xs">
          {mines.data?.total ?? 0} mines · <a href={`/mines/?country=${iso3}&horizon=${horizon}&persona=${persona}`}>see them in the table</a>
        </p>
      </State>
    </Card>
  );
}

function CountryPage() {
  const [params, setParams] = useQueryState();
  const iso3 = params.get("iso3")?.toUpperCase();
  if (!iso3) return <p>No country given: pick one on the <a href="/?layer=countries">overview map</a>.</p>;
  const horizon = parseHorizon(params.get("horizon"));
  const persona = parsePersona(params.get("persona"));
  return (
    <div className="space-y-4">
      <Profile kind="country" id={iso3} horizon={horizon} persona={persona} onChange={setParams} />
      <CountryMines iso3={iso3} horizon={horizon} persona={persona} />
    </div>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <CountryPage />
    </Suspense>
  );
}
