import { describe, expect, it, vi } from "vitest";
import { MAX_PAGE, readAll } from "@/lib/api";

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
