/** Formatting, colour and CSV helpers (pure: unit-tested). */

export function fmt(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : value.toFixed(digits);
}

export function pct(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : `${(value * 100).toFixed(digits)}%`;
}

/** FVI to a colour over [lo, hi] (default 0..100): red (low viability) through amber to green (high); grey when unscored. */
export function fviColor(fvi: number | null | undefined, lo = 0, hi = 100): string {
  if (fvi === null || fvi === undefined || Number.isNaN(fvi)) return "#9ca3af";
  const t = hi > lo ? Math.max(0, Math.min(1, (fvi - lo) / (hi - lo))) : 0.5;
  const stops: [number, [number, number, number]][] = [
    [0, [185, 28, 28]],
    [0.5, [217, 119, 6]],
    [1, [21, 128, 61]],
  ];
  const i = t <= 0.5 ? 0 : 1;
  const [t0, c0] = stops[i]!;
  const [t1, c1] = stops[i + 1]!;
  const u = (t - t0) / (t1 - t0);
  const c = c0.map((v, k) => Math.round(v + (c1[k]! - v) * u));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** The colour domain of a set of values: their 5th to 95th percentile (so a few outliers do not wash the map out). */
export function colorDomain(values: readonly (number | null | undefined)[]): [number, number] {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return [0, 100];
  const q = (p: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))]!;
  const lo = q(0.05);
  const hi = q(0.95);
  return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
}

/** Circle radius for a capacity (Mt/yr): area proportional to capacity, a floor so small mines stay visible. */
export function capacityRadius(capacity: number | null | undefined, maxCapacity: number, maxRadius = 9): number {
  const min = 1.5;
  if (!capacity || capacity <= 0 || maxCapacity <= 0) return min;
  return Math.max(min, maxRadius * Math.sqrt(capacity / maxCapacity));
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV of the given rows and columns (header first). */
export function toCsv<T extends object>(rows: readonly T[], columns: readonly (keyof T & string)[]): string {
  const lines = [columns.join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

export type MineFilter = {
  q?: string;
  country?: string;
  status?: string;
  type?: string;
  fviMin?: number;
  fviMax?: number;
};

type Filterable = {
  name?: string | null;
  country_iso3?: string | null;
  status?: string | null;
  entity_type?: string;
  fvi?: number | null;
};

export function filterMines<T extends Filterable>(rows: readonly T[], f: MineFilter): T[] {
  const q = f.q?.trim().toLowerCase();
  return rows.filter((r) => {
    if (q && !(r.name ?? "").toLowerCase().includes(q)) return false;
    if (f.country && r.country_iso3 !== f.country) return false;
    if (f.status && r.status !== f.status) return false;
    if (f.type && r.entity_type !== f.type) return false;
    if (f.fviMin !== undefined && (r.fvi === null || r.fvi === undefined || r.fvi < f.fviMin)) return false;
    if (f.fviMax !== undefined && (r.fvi === null || r.fvi === undefined || r.fvi > f.fviMax)) return false;
    return true;
  });
}

export type SortKey = "rank" | "-rank" | "fvi" | "-fvi" | "name" | "-name" | "capacity" | "-capacity";

export function sortMines<T extends Filterable & { rank?: number | null; capacity_mtpa?: number | null }>(
  rows: readonly T[],
  key: SortKey,
): T[] {
  const desc = key.startsWith("-");
  const field = desc ? key.slice(1) : key;
  const get = (r: T): number | string | null =>
    field === "name" ? (r.name ?? null) : field === "capacity" ? (r.capacity_mtpa ?? null) : field === "fvi" ? (r.fvi ?? null) : (r.rank ?? null);
  return [...rows].sort((a, b) => {
    const x = get(a);
    const y = get(b);
    if (x === null && y === null) return 0;
    if (x === null) return 1; // missing last either way
    if (y === null) return -1;
    const c = typeof x === "string" ? x.localeCompare(String(y)) : (x as number) - (y as number);
    return desc ? -c : c;
  });
}
