"use client";
/** World map from offline boundaries (world-atlas 110m, d3-geo Equal Earth; no tile server). */
import { geoEqualEarth, geoPath } from "d3-geo";
import type { Feature, FeatureCollection, Geometry } from "geojson";
import { useEffect, useMemo, useState } from "react";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { capacityRadius, colorDomain, fmt, fviColor } from "@/lib/format";
import isoByNumeric from "@/lib/iso-numeric.json";

export type MapPoint = { id: string; name: string; lat: number; lon: number; value: number | null; capacity: number | null };

const W = 960;
const H = 470;

type CountryFeature = Feature<Geometry, { name: string }> & { id?: string | number };

function useCountries(): CountryFeature[] | null {
  const [features, setFeatures] = useState<CountryFeature[] | null>(null);
  useEffect(() => {
    let live = true;
    // a separate chunk: the boundaries are not in the first-load JavaScript
    void import("world-atlas/countries-110m.json").then((mod) => {
      const topo = (mod.default ?? mod) as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
      const fc = feature(topo, topo.objects.countries) as FeatureCollection<Geometry, { name: string }>;
      if (live) setFeatures(fc.features as CountryFeature[]);
    });
    return () => {
      live = false;
    };
  }, []);
  return features;
}

export function WorldMap({
  points,
  countryValues,
  choropleth = false,
  valueLabel = "FVI",
  onSelect,
  onSelectCountry,
  highlight,
  label = "World map of coal mines",
}: {
  points: MapPoint[];
  countryValues?: Record<string, number | null>;
  choropleth?: boolean;
  valueLabel?: string;
  onSelect?: (id: string) => void;
  onSelectCountry?: (iso3: string) => void;
  highlight?: string;
  label?: string;
}) {
  const countries = useCountries();
  const projection = useMemo(() => geoEqualEarth().fitExtent([[4, 4], [W - 4, H - 4]], { type: "Sphere" }), []);
  const path = useMemo(() => geoPath(projection), [projection]);
  const [lo, hi] = useMemo(
    () => colorDomain(choropleth ? Object.values(countryValues ?? {}) : points.map((p) => p.value)),
    [choropleth, countryValues, points],
  );
  const color = (v: number | null | undefined) => fviColor(v, lo, hi);
  const maxCap = useMemo(() => Math.max(1, ...points.map((p) => p.capacity ?? 0)), [points]);
  // small circles drawn last so big ones do not hide them
  const drawn = useMemo(
    () =>
      points
        .map((p) => ({ p, xy: projection([p.lon, p.lat]), r: capacityRadius(p.capacity, maxCap) }))
        .filter((d): d is { p: MapPoint; xy: [number, number]; r: number } => d.xy !== null)
        .sort((a, b) => b.r - a.r),
    [points, projection, maxCap],
  );
  return (
    <figure className="w-full">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${points.length} points`} className="h-auto w-full rounded bg-sky-50 dark:bg-slate-800" data-testid="world-map">
        <path d={path({ type: "Sphere" }) ?? undefined} className="fill-sky-100 dark:fill-slate-800" />
        <g>
          {(countries ?? []).map((f, i) => {
            const iso3 = (isoByNumeric as Record<string, string>)[String(f.id ?? "")];
            const v = iso3 && countryValues ? countryValues[iso3] : undefined;
            // land without a value: a neutral fill that follows the theme (a CSS class, so dark mode can change it)
            const neutral = !choropleth || v === undefined;
            const classes = [neutral ? "fill-slate-200 dark:fill-slate-600" : "", onSelectCountry && iso3 ? "cursor-pointer" : ""].filter(Boolean).join(" ");
            return (
              <path
                key={`${String(f.id)}-${i}`}
                d={path(f) ?? undefined}
                fill={neutral ? undefined : color(v)}
                stroke="#94a3b8"
                strokeWidth={0.4}
                data-iso3={iso3}
                className={classes || undefined}
                onClick={onSelectCountry && iso3 ? () => onSelectCountry(iso3) : undefined}
              >
                <title>{`${f.properties.name}${v !== undefined ? `: ${valueLabel} ${fmt(v)}` : ""}`}</title>
              </path>
            );
          })}
        </g>
        <g>
          {drawn.map(({ p, xy, r }) => (
            <circle
              key={p.id}
              cx={xy[0]}
              cy={xy[1]}
              r={p.id === highlight ? r + 3 : r}
              fill={color(p.value)}
              fillOpacity={0.85}
              stroke={p.id === highlight ? "#111827" : "#ffffff"}
              strokeWidth={p.id === highlight ? 1.5 : 0.4}
              data-mine-id={p.id}
              className={onSelect ? "cursor-pointer" : undefined}
              onClick={onSelect ? () => onSelect(p.id) : undefined}
            >
              <title>{`${p.name}: ${valueLabel} ${fmt(p.value)}${p.capacity ? `, ${fmt(p.capacity)} Mt/yr` : ""}`}</title>
            </circle>
          ))}
        </g>
      </svg>
      <figcaption className="mt-1 flex flex-wrap items-center gap-3 text-xs text-slate-700 dark:text-slate-300">
        <span>Colour: {valueLabel}</span>
        <span className="flex items-center gap-1">
          <span className="inline-block h-3 w-3 rounded-full" style={{ background: color(lo) }} /> {fmt(lo)} or less
          <span className="inline-block h-3 w-3 rounded-full" style={{ background: color((lo + hi) / 2) }} /> {fmt((lo + hi) / 2)}
          <span className="inline-block h-3 w-3 rounded-full" style={{ background: color(hi) }} /> {fmt(hi)} or more
          <span className="inline-block h-3 w-3 rounded-full" style={{ background: fviColor(null) }} /> unscored
        </span>
        <span>Size: capacity (Mt/yr)</span>
      </figcaption>
    </figure>
  );
}
