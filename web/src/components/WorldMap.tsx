"use client";
/**
 * World map from offline boundaries (world-atlas 110m, d3-geo Equal Earth; no tile server).
 * Countries are SVG paths (about 180: clickable, themed by CSS); mines are drawn on a canvas laid over
 * them, because thousands of SVG circles cost seconds of React and layout work on the overview.
 */
import { geoEqualEarth, geoPath } from "d3-geo";
import type { Feature, FeatureCollection, Geometry } from "geojson";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { capacityRadius, colorDomain, fmt, fviColor } from "@/lib/format";
import isoByNumeric from "@/lib/iso-numeric.json";

export type MapPoint = { id: string; name: string; lat: number; lon: number; value: number | null; capacity: number | null };

const W = 960;
const H = 470;
/** Extra pick distance around a mine's circle (map units), so a small mine can be hit with a finger. */
const PICK_SLOP = 3;

type CountryFeature = Feature<Geometry, { name: string }> & { id?: string | number };
type Drawn = { p: MapPoint; x: number; y: number; r: number };
/** The canvas answers "where is mine X" (CSS pixels from its top-left): how a browser test clicks one mine. */
export type MapCanvas = HTMLCanvasElement & { locateMine?: (id: string) => [number, number] | null };

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

/** The drawn mine under (x, y) in map units: the smallest circle that holds the point (drawn last, on top). */
export function pick(drawn: Drawn[], x: number, y: number): Drawn | null {
  let best: Drawn | null = null;
  let bestD = Infinity;
  for (const d of drawn) {
    const dist = Math.hypot(d.x - x, d.y - y);
    if (dist <= d.r + PICK_SLOP && (dist < bestD || (best && d.r < best.r && dist <= d.r))) {
      best = d;
      bestD = dist;
    }
  }
  return best;
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
  const color = useCallback((v: number | null | undefined) => fviColor(v, lo, hi), [lo, hi]);
  const maxCap = useMemo(() => points.reduce((m, p) => Math.max(m, p.capacity ?? 0), 1), [points]);
  // small circles drawn last so big ones do not hide them
  const drawn = useMemo(() => {
    const out: Drawn[] = [];
    for (const p of points) {
      const xy = projection([p.lon, p.lat]);
      if (xy) out.push({ p, x: xy[0], y: xy[1], r: capacityRadius(p.capacity, maxCap) });
    }
    return out.sort((a, b) => b.r - a.r);
  }, [points, projection, maxCap]);

  // the country outlines once per load: re-rendering (hover, resize) must not re-project 180 countries
  const outlines = useMemo(
    () => (countries ?? []).map((f) => ({ f, d: path(f) ?? undefined, iso3: (isoByNumeric as Record<string, string>)[String(f.id ?? "")] })),
    [countries, path],
  );
  const canvas = useRef<MapCanvas>(null);
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [drawnCount, setDrawnCount] = useState(0);
  const [hover, setHover] = useState<Drawn | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = canvas.current;
    if (!el || width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    const cssH = (width * H) / W;
    el.width = Math.round(width * dpr);
    el.height = Math.round(cssH * dpr);
    const ctx = el.getContext("2d");
    if (!ctx) return;
    const k = (width / W) * dpr;
    ctx.setTransform(k, 0, 0, k, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.globalAlpha = 0.85;
    ctx.lineWidth = 0.4;
    ctx.strokeStyle = "#ffffff";
    for (const d of drawn) {
      if (d.p.id === highlight) continue;
      ctx.beginPath();
      ctx.arc(d.x, d.y, d.r, 0, 2 * Math.PI);
      ctx.fillStyle = color(d.p.value);
      ctx.fill();
      ctx.stroke();
    }
    const h = highlight ? drawn.find((d) => d.p.id === highlight) : undefined;
    if (h) {
      ctx.globalAlpha = 1;
      ctx.beginPath();
      ctx.arc(h.x, h.y, h.r + 3, 0, 2 * Math.PI);
      ctx.fillStyle = color(h.p.value);
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#111827";
      ctx.stroke();
    }
    el.locateMine = (id) => {
      const d = drawn.find((x) => x.p.id === id);
      return d ? [(d.x * width) / W, (d.y * width) / W] : null;
    };
    setDrawnCount(drawn.length);
    if (drawn.length > 0) performance.mark("fvi:map-drawn", { detail: { points: drawn.length } });
  }, [drawn, width, color, highlight]);

  const toMap = (e: React.MouseEvent): [number, number] | null => {
    const r = box.current?.getBoundingClientRect();
    if (!r || r.width === 0) return null;
    return [((e.clientX - r.left) * W) / r.width, ((e.clientY - r.top) * W) / r.width];
  };
  const onClickCapture = (e: React.MouseEvent) => {
    if (!onSelect || drawn.length === 0) return;
    const xy = toMap(e);
    const hit = xy ? pick(drawn, xy[0], xy[1]) : null;
    if (hit) {
      e.stopPropagation(); // a mine wins over the country under it
      onSelect(hit.p.id);
    }
  };
  const onMouseMove = (e: React.MouseEvent) => {
    if (drawn.length === 0) return;
    const xy = toMap(e);
    const hit = xy ? pick(drawn, xy[0], xy[1]) : null;
    setHover((h) => (h?.p.id === hit?.p.id ? h : hit));
  };
  const scale = width > 0 ? width / W : 1;

  return (
    <figure className="w-full" data-testid="world-map" data-points={points.length} data-points-drawn={drawnCount}>
      {/* a plain div, not a button: mines are reached by keyboard through the rankings and the mines table */}
      <div
        ref={box}
        className={`relative w-full ${hover && onSelect ? "cursor-pointer" : ""}`}
        onClickCapture={onClickCapture}
        onMouseMove={onMouseMove}
        onMouseLeave={() => setHover(null)}
      >
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${points.length} points`} className="block h-auto w-full rounded bg-sky-50 dark:bg-slate-800">
          <path d={path({ type: "Sphere" }) ?? undefined} className="fill-sky-100 dark:fill-slate-800" />
          <g>
            {outlines.map(({ f, d, iso3 }, i) => {
              const v = iso3 && countryValues ? countryValues[iso3] : undefined;
              // land without a value: a neutral fill that follows the theme (a CSS class, so dark mode can change it)
              const neutral = !choropleth || v === undefined;
              const classes = [neutral ? "fill-slate-200 dark:fill-slate-600" : "", onSelectCountry && iso3 ? "cursor-pointer" : ""].filter(Boolean).join(" ");
              return (
                <path
                  key={`${String(f.id)}-${i}`}
                  d={d}
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
        </svg>
        <canvas ref={canvas} aria-hidden="true" className="pointer-events-none absolute inset-0 h-full w-full" data-testid="world-map-mines" />
        {hover ? (
          <div
            role="tooltip"
            className="pointer-events-none absolute z-10 rounded bg-slate-900 px-2 py-1 text-xs text-white shadow dark:bg-white dark:text-slate-900"
            style={{ left: hover.x * scale + 8, top: hover.y * scale + 8 }}
          >
            {`${hover.p.name}: ${valueLabel} ${fmt(hover.p.value)}${hover.p.capacity ? `, ${fmt(hover.p.capacity)} Mt/yr` : ""}`}
          </div>
        ) : null}
      </div>
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
