/** Typed client of the FVI API (same origin; paths and bodies typed from the OpenAPI schema). */
import createClient from "openapi-fetch";
import type { components, paths } from "./api-schema";

export type Schemas = components["schemas"];
export type MineSummary = Schemas["MineSummary"];
export type CountrySummary = Schemas["CountrySummary"];
export type EntityProfile = Schemas["EntityProfile"];
export type RankingItem = Schemas["RankingItem"];
export type WhatIfRequest = Schemas["WhatIfRequest"];
export type WhatIfResult = Schemas["WhatIfResult"];
export type ExplainResponse = Schemas["ExplainResponse"];
export type Readiness = Schemas["Readiness"];

export const HORIZONS = ["H5", "H10", "H20"] as const;
export type Horizon = (typeof HORIZONS)[number];
export type Persona = NonNullable<paths["/v1/mines"]["get"]["parameters"]["query"]>["persona"] & string;

/** Largest page the list routes serve (the schema's `limit` maximum). */
export const MAX_PAGE = 500;

type Listener = (down: boolean, detail: string | null) => void;
const listeners = new Set<Listener>();
let apiDown = false;

/** The API-down banner listens here: any network failure or 5xx marks the API down, any answer marks it up. */
export function onApiStatus(fn: Listener): () => void {
  listeners.add(fn);
  fn(apiDown, null);
  return () => listeners.delete(fn);
}

export function reportApiStatus(down: boolean, detail: string | null = null): void {
  apiDown = down;
  for (const fn of listeners) fn(down, detail);
}

async function watchedFetch(input: Request): Promise<Response> {
  try {
    const res = await fetch(input);
    // 503 is the API answering that one part (warehouse, model) is not ready: the panel says so, not the banner
    const down = res.status >= 500 && res.status !== 503;
    reportApiStatus(down, down ? `HTTP ${res.status}` : null);
    return res;
  } catch (err) {
    reportApiStatus(true, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "http://127.0.0.1" : window.location.origin,
  fetch: watchedFetch,
});

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The data of an openapi-fetch result, or an ApiError with the API's own message. */
export function unwrap<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data !== undefined) return r.data;
  const e = r.error as { detail?: unknown } | undefined;
  const msg = typeof e?.detail === "string" ? e.detail : `HTTP ${r.response.status}`;
  throw new ApiError(msg, r.response.status);
}

/** Every mine at one horizon and persona, read page by page (the list route serves at most MAX_PAGE a page). */
export type MineType = "mine" | "us_mine";

/** Every item of a paged list: the first page says the total, the others are read in parallel. */
export async function readAll<T>(page: (offset: number) => Promise<{ items: T[]; total: number }>): Promise<T[]> {
  const first = await page(0);
  const offsets: number[] = [];
  for (let o = first.items.length; first.items.length > 0 && o < first.total; o += MAX_PAGE) offsets.push(o);
  const rest = await Promise.all(offsets.map((o) => page(o)));
  return [first, ...rest].flatMap((p) => p.items);
}

export function allCountries(horizon: Horizon, persona: Persona, signal?: AbortSignal): Promise<CountrySummary[]> {
  return readAll(async (offset) =>
    unwrap(await api.GET("/v1/countries", { params: { query: { horizon, persona, limit: MAX_PAGE, offset } }, signal })),
  );
}

/** One mine as the overview needs it (the map route's columns, row by row). */
export type MapMine = {
  id: string;
  name: string | null;
  country_iso3: string | null;
  status: string | null;
  latitude: number | null;
  longitude: number | null;
  capacity_mtpa: number | null;
  fvi: number | null;
  rank: number | null;
};
export type MapMines = { as_of_year: number | null; total: number; synthetic: boolean; note: string | null; items: MapMine[] };

type Columnar<R> = { as_of_year: number | null; total: number; synthetic: boolean; note: string | null; columns: { [K in keyof R]: R[K][] } };

/** Rows from a columnar answer (one array per field, all the same length). */
export function fromColumns<R extends object>(columns: { [K in keyof R]: R[K][] }, fields: readonly (keyof R)[]): R[] {
  const n = (columns[fields[0]!] ?? []).length;
  const cols = fields.map((f) => columns[f] ?? []);
  const out: R[] = new Array(n);
  // a plain loop (6,000+ rows on the overview's critical path): no per-row arrays or entries
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (let k = 0; k < fields.length; k++) row[fields[k] as string] = cols[k]![i] ?? null;
    out[i] = row as R;
  }
  return out;
}

const MAP_FIELDS = ["id", "name", "country_iso3", "status", "latitude", "longitude", "capacity_mtpa", "fvi", "rank"] as const satisfies readonly (keyof MapMine)[];

/** Every scored mine in one request (GET /v1/dashboard/map-mines: columnar, a tenth of the list pages' bytes). */
export async function mapMines(horizon: Horizon, persona: Persona, signal?: AbortSignal): Promise<MapMines> {
  const r = unwrap(await api.GET("/v1/dashboard/map-mines", { params: { query: { horizon, persona } }, signal })) as Columnar<MapMine>;
  return { as_of_year: r.as_of_year, total: r.total, synthetic: r.synthetic, note: r.note, items: fromColumns<MapMine>(r.columns, MAP_FIELDS) };
}

/** One row of the mines table (and of its CSV). */
export type TableMine = {
  id: string;
  name: string | null;
  country_iso3: string | null;
  status: string | null;
  capacity_mtpa: number | null;
  fvi: number | null;
  fvi_p05: number | null;
  fvi_p95: number | null;
  rank: number | null;
  percentile: number | null;
  entity_type: MineType;
  horizon: Horizon;
  persona: Persona;
  as_of_year: number | null;
};
const TABLE_FIELDS = ["id", "name", "country_iso3", "status", "capacity_mtpa", "fvi", "fvi_p05", "fvi_p95", "rank", "percentile"] as const;
type TableColumns = Pick<TableMine, (typeof TABLE_FIELDS)[number]>;

/** Every scored mine of one type for the mines table, in one request (GET /v1/dashboard/mine-table), rank order. */
export async function mineTable(horizon: Horizon, persona: Persona, entityType: MineType, signal?: AbortSignal): Promise<TableMine[]> {
  const query = { horizon, persona, entity_type: entityType };
  const r = unwrap(await api.GET("/v1/dashboard/mine-table", { params: { query }, signal })) as Columnar<TableColumns>;
  return fromColumns<TableColumns>(r.columns, TABLE_FIELDS).map((m) => ({ ...m, entity_type: entityType, horizon, persona, as_of_year: r.as_of_year }));
}

/** The cache key of one entity's profile: the profile page, compare and any panel share one answer. */
export function profileKey(kind: "mine" | "us_mine" | "country", id: string): readonly unknown[] {
  return ["profile", kind === "country" ? "country" : "mine", id];
}

export async function entityProfile(kind: "mine" | "us_mine" | "country", id: string, signal?: AbortSignal): Promise<EntityProfile> {
  return kind === "country"
    ? unwrap(await api.GET("/v1/countries/{iso3}", { params: { path: { iso3: id } }, signal }))
    : unwrap(await api.GET("/v1/mines/{mine_id}", { params: { path: { mine_id: id } }, signal }));
}
