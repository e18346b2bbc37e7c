import { describe, expect, it, vi } from "vitest";
import { MAX_PAGE, fromColumns, mineTable, readAll } from "@/lib/api";

describe("readAll", () => {
  it("reads every page once the first says the total, in order", async () => {
    const total = 2 * MAX_PAGE + 7;
    const page = vi.fn(async (offset: number) => ({
      items: Array.from({ length: Math.min(MAX_PAGE, total - offset) }, (_, i) => offset + i),
      total,
    }));
    const all = await readAll(page);
    expect(all).toHaveLength(total);
    expect(all[total - 1]).toBe(total - 1);
    expect(page.mock.calls.map((c) => c[0])).toEqual([0, MAX_PAGE, 2 * MAX_PAGE]);
  });
  it("stops at an empty first page", async () => {
    const page = vi.fn(async () => ({ items: [] as number[], total: 3 }));
    expect(await readAll(page)).toEqual([]);
    expect(page).toHaveBeenCalledTimes(1);
  });
});

describe("mineTable", () => {
  it("reads the table's columns in one request and gives one row per mine, with the view it was read for", async () => {
    const body = {
      as_of_year: 2024,
      total: 2,
      synthetic: false,
      note: null,
      columns: {
        id: ["M2", "M1"],
        name: ["Beta", null],
        country_iso3: ["ZAF", "AUS"],
        status: ["operating", "closed"],
        capacity_mtpa: [3.5, null],
        fvi: [61.2, 40],
        fvi_p05: [55, 30],
        fvi_p95: [66, 50],
        rank: [1, null],
        percentile: [1, null],
      },
    };
    const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } }));
    vi.stubGlobal("fetch", fetch);
    try {
      const rows = await mineTable("H5", "lender", "mine");
      expect(fetch).toHaveBeenCalledTimes(1);
      const url = new URL((fetch.mock.calls[0] as unknown as [Request])[0].url);
      expect(url.pathname).toBe("/v1/dashboard/mine-table");
      expect(Object.fromEntries(url.searchParams)).toEqual({ horizon: "H5", persona: "lender", entity_type: "mine" });
      expect(rows).toEqual([
        { id: "M2", name: "Beta", country_iso3: "ZAF", status: "operating", capacity_mtpa: 3.5, fvi: 61.2, fvi_p05: 55, fvi_p95: 66, rank: 1, percentile: 1, entity_type: "mine", horizon: "H5", persona: "lender", as_of_year: 2024 },
        { id: "M1", name: null, country_iso3: "AUS", status: "closed", capacity_mtpa: null, fvi: 40, fvi_p05: 30, fvi_p95: 50, rank: null, percentile: null, entity_type: "mine", horizon: "H5", persona: "lender", as_of_year: 2024 },
      ]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
  it("fromColumns gives no row for an empty answer", () => {
    expect(fromColumns<{ id: string }>({ id: [] }, ["id"])).toEqual([]);
  });
});
