import { describe, expect, it } from "vitest";
import { capacityRadius, colorDomain, filterMines, fviColor, sortMines, toCsv } from "@/lib/format";

const rows = [
  { id: "M1", name: "Alpha Coal Mine", country_iso3: "ZAF", status: "operating", entity_type: "mine", fvi: 60, rank: 2, capacity_mtpa: 10 },
  { id: "M2", name: "Beta Colliery", country_iso3: "ZAF", status: "closed", entity_type: "mine", fvi: 40, rank: null, capacity_mtpa: 2 },
  { id: "M3", name: "Gamma Mine", country_iso3: "AUS", status: "operating", entity_type: "mine", fvi: 80, rank: 1, capacity_mtpa: 30 },
  { id: "M4", name: 'Delta "Project", East', country_iso3: "AUS", status: "proposed", entity_type: "mine", fvi: null, rank: null, capacity_mtpa: null },
];

describe("filterMines", () => {
  it("searches names case-insensitively and filters by country, status and FVI range", () => {
    expect(filterMines(rows, { q: "mine" }).map((r) => r.id)).toEqual(["M1", "M3"]);
    expect(filterMines(rows, { country: "ZAF" }).map((r) => r.id)).toEqual(["M1", "M2"]);
    expect(filterMines(rows, { status: "operating", country: "AUS" }).map((r) => r.id)).toEqual(["M3"]);
    expect(filterMines(rows, { fviMin: 50 }).map((r) => r.id)).toEqual(["M1", "M3"]);
    expect(filterMines(rows, { fviMax: 50 }).map((r) => r.id)).toEqual(["M2"]); // unscored never in a range
  });
});

describe("sortMines", () => {
  it("puts missing values last in either direction", () => {
    expect(sortMines(rows, "rank").map((r) => r.id)).toEqual(["M3", "M1", "M2", "M4"]);
    expect(sortMines(rows, "-fvi").map((r) => r.id)).toEqual(["M3", "M1", "M2", "M4"]);
    expect(sortMines(rows, "fvi").map((r) => r.id)).toEqual(["M2", "M1", "M3", "M4"]);
    expect(sortMines(rows, "-capacity").map((r) => r.id)[0]).toBe("M3");
    expect(sortMines(rows, "name").map((r) => r.id)).toEqual(["M1", "M2", "M4", "M3"]);
  });
});

describe("toCsv", () => {
  it("quotes commas and quotes, leaves nulls empty, ends lines with CRLF", () => {
    const csv = toCsv(rows.slice(2), ["id", "name", "fvi"]);
    expect(csv).toBe('id,name,fvi\r\nM3,Gamma Mine,80\r\nM4,"Delta ""Project"", East",\r\n');
  });
});

describe("fviColor and capacityRadius", () => {
  it("runs red to green and grey for unscored", () => {
    expect(fviColor(0)).toBe("rgb(185, 28, 28)");
    expect(fviColor(100)).toBe("rgb(21, 128, 61)");
    expect(fviColor(null)).toBe("#9ca3af");
    expect(fviColor(150)).toBe(fviColor(100));
  });
  it("scales area with capacity and keeps a floor", () => {
    expect(capacityRadius(100, 100, 9)).toBeCloseTo(9);
    expect(capacityRadius(25, 100, 9)).toBeCloseTo(4.5);
    expect(capacityRadius(null, 100)).toBe(1.5);
  });
});

describe("colorDomain", () => {
  it("spans the 5th to 95th percentile and falls back to 0..100", () => {
    const values = Array.from({ length: 101 }, (_, i) => 30 + i * 0.3); // 30 .. 60
    const [lo, hi] = colorDomain([...values, null]);
    expect(lo).toBeCloseTo(31.5);
    expect(hi).toBeCloseTo(58.5);
    expect(colorDomain([])).toEqual([0, 100]);
    expect(fviColor(lo, lo, hi)).toBe(fviColor(0));
  });
});
