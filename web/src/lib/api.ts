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

export function allMines(horizon: Horizon, persona: Persona, signal?: AbortSignal, entityType: MineType = "mine"): Promise<MineSummary[]> {
  return readAll(async (offset) => {
    const query = { horizon, persona, limit: MAX_PAGE, offset, sort: "rank" as const, entity_type: entityType };
    return unwrap(await api.GET("/v1/mines", { params: { query }, signal }));
  });
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

/** Every scored mine in one request (GET /v1/dashboard/map-mines: columnar, a tenth of the list pages' bytes). */
export async function mapMines(horizon: Horizon, persona: Persona, signal?: AbortSignal): Promise<MapMines> {
  const r = unwrap(await api.GET("/v1/dashboard/map-mines", { params: { query: { horizon, persona } }, signal })) as {
    as_of_year: number | null;
    total: number;
    synthetic: boolean;
    note: string | null;
    columns: { [K in keyof MapMine]: MapMine[K][] };
  };
  const c = r.columns;
  const items: MapMine[] = c.id.map((id, i) => ({
    id,
    name: c.name[i] ?? null,
    country_iso3: c.country_iso3[i] ?? null,
    status: c.status[i] ?? null,
    latitude: c.latitude[i] ?? null,
    longitude: c.longitude[i] ?? null,
    capacity_mtpa: c.capacity_mtpa[i] ?? null,
    fvi: c.fvi[i] ?? null,
    rank: c.rank[i] ?? null,
  }));
  return { as_of_year: r.as_of_year, total: r.total, synthetic: r.synthetic, note: r.note, items };
}
