import { expect, test } from "@playwright/test";
import { apiGet, choose, expectAccessible, shoot } from "./helpers";

type Mine = { id: string; name: string | null; fvi: number | null; rank: number | null; country_iso3: string | null; latitude: number | null; longitude: number | null };
type Page_ = { items: Mine[]; total: number };

/** Page coordinates of one mine on the map's canvas (the canvas knows where it drew each mine). */
async function mineOnMap(page: import("@playwright/test").Page, id: string): Promise<{ x: number; y: number }> {
  const canvas = page.getByTestId("world-map-mines");
  const xy = await canvas.evaluate((el, mid) => (el as HTMLCanvasElement & { locateMine?: (i: string) => [number, number] | null }).locateMine?.(mid) ?? null, id);
  expect(xy, `mine ${id} is drawn on the map`).not.toBeNull();
  const box = (await canvas.boundingBox())!;
  return { x: box.x + xy![0], y: box.y + xy![1] };
}

async function topMine(page: import("@playwright/test").Page): Promise<Mine> {
  const list = await apiGet<Page_>(page, "/v1/mines?limit=20&sort=rank");
  const m = list.items.find((x) => x.rank !== null && x.name && x.latitude !== null && x.country_iso3);
  expect(m, "the test world has a ranked mine with a name, a country and coordinates").toBeTruthy();
  return m!;
}

test("overview: map with every mine that has coordinates, KPIs, rankings; accessible", async ({ page }) => {
  test.setTimeout(180_000);
  const first = await apiGet<Page_>(page, "/v1/mines?limit=500");
  const items = [...first.items];
  for (let offset = 500; offset < first.total; offset += 500) items.push(...(await apiGet<Page_>(page, `/v1/mines?limit=500&offset=${offset}`)).items);
  const withCoords = items.filter((m) => m.latitude !== null && m.longitude !== null).length;
  const started = Date.now();
  await page.goto("/");
  await expect(page.getByRole("heading", { name: /overview/i })).toBeVisible();
  const map = page.getByTestId("world-map");
  // mines are drawn on a canvas: the figure says how many it drew, and the page marks the moment
  await expect(map).toHaveAttribute("data-points-drawn", String(withCoords), { timeout: 60_000 });
  const drawnAt = await page.evaluate(() => performance.getEntriesByName("fvi:map-drawn").at(-1)?.startTime ?? null);
  console.log(`overview: map with all ${withCoords} mines drawn ${Date.now() - started} ms after navigation (mark at ${drawnAt?.toFixed(0)} ms)`);
  expect(drawnAt, "the map marks when it has drawn its mines").not.toBeNull();
  await expect(map.locator("path[data-iso3]").first()).toBeAttached(); // offline boundaries drawn
  await expect(page.getByText("Mines scored")).toBeVisible();
  await expect(page.getByRole("heading", { name: /Most viable mines/ })).toBeVisible();
  await shoot(page, "overview");
  await expectAccessible(page);
  // horizon selector goes into the URL
  await choose(page, "Horizon", "20 years");
  await expect(page).toHaveURL(/horizon=H20/);
});

test("search a mine, open its profile, change the horizon, move a what-if slider and see the change", async ({ page }) => {
  const mine = await topMine(page);
  const reads: string[] = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/v1/")) reads.push(u.pathname);
  });
  await page.goto("/mines/");
  await expect(page.getByTestId("mine-count")).toContainText(/^\d+ of \d+ mines$/);
  // every mine of the table in one request (not a page of 500 at a time)
  expect(reads.filter((r) => r.startsWith("/v1/mines") || r.startsWith("/v1/dashboard/mine-table"))).toEqual(["/v1/dashboard/mine-table"]);
  await page.getByLabel("Search mines by name").fill(mine.name!);
  await expect(page).toHaveURL(new RegExp(`q=${encodeURIComponent(mine.name!).replace(/%20/g, "(\\+|%20)")}`));
  await shoot(page, "mines");
  await expectAccessible(page);
  await page.getByRole("link", { name: mine.name!, exact: true }).first().click();
  await expect(page).toHaveURL(new RegExp(`/mine/\\?id=${encodeURIComponent(mine.id)}`));
  await expect(page.getByRole("heading", { level: 1, name: mine.name! })).toBeVisible();
  await expect(page.getByTestId("fvi-H10")).toContainText(mine.fvi!.toFixed(1));
  // the band's width and the modelling choice that drives it (Sobol indices), in words
  await expect(page.getByTestId("band-explained")).toContainText(/band is [\d.]+ points wide/);
  await choose(page, "Horizon", "5 years");
  await expect(page).toHaveURL(/horizon=H5/);
  await expect(page.getByRole("heading", { name: "What if? (H5)" })).toBeVisible();
  // pillars against the medians, production history, related documents: loaded, no error
  const medians = page.getByTestId("pillar-medians");
  await expect(medians).toBeVisible();
  await expect(medians.locator("tbody tr").first().locator("td").nth(3)).toHaveText(/^\d+\.\d$/);
  await expect(page.getByRole("heading", { name: "Production history (Mt per year)" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Related documents" })).toBeVisible();
  const result = page.getByTestId("whatif-result");
  await expect(result).toContainText("Move a slider");
  // a pillar weight to its maximum: the what-if route rescores and the panel shows the change
  const slider = page.locator('[data-testid^="weight-"][data-has-score="true"]').first();
  await slider.focus();
  for (let i = 0; i < 3; i++) await slider.press("End");
  await expect(result).toContainText(/FVI \d+(\.\d)? \(published \d+(\.\d)?, change [+-]\d/);
  await shoot(page, "mine-profile");
  await expectAccessible(page);
});

test("click a mine on the map opens its profile", async ({ page }) => {
  const mine = await topMine(page);
  await page.goto("/");
  await expect(page.getByTestId("world-map")).not.toHaveAttribute("data-points-drawn", "0");
  const at = await mineOnMap(page, mine.id);
  // hover names the mine under the pointer (a smaller neighbour may sit on top); the click opens that one
  await page.mouse.move(at.x, at.y);
  const tip = page.getByRole("tooltip");
  await expect(tip).toBeVisible();
  const name = (await tip.textContent())!.split(": FVI")[0]!;
  await page.mouse.click(at.x, at.y);
  await expect(page).toHaveURL(/\/mine\/\?id=/);
  await expect(page.getByRole("heading", { level: 1, name, exact: true })).toBeVisible();
});

test("open a country: profile and its mines on the map", async ({ page }) => {
  const mine = await topMine(page);
  await page.goto(`/country/?iso3=${mine.country_iso3}`);
  await expect(page.getByRole("heading", { name: `Mines in ${mine.country_iso3}` })).toBeVisible();
  await expect(page.getByTestId("fvi-H10")).toBeVisible();
  await expect(page.getByTestId("world-map")).not.toHaveAttribute("data-points-drawn", "0");
  await mineOnMap(page, mine.id);
  await shoot(page, "country-profile");
  await expectAccessible(page);
});

test("compare two mines side by side, and add a third found by name", async ({ page }) => {
  const list = await apiGet<Page_>(page, "/v1/mines?limit=3&sort=rank");
  const [a, b, c] = list.items;
  await page.goto(`/compare/?ids=${a!.id},${b!.id}`);
  await expect(page.getByTestId("compare-fvi")).toHaveCount(2);
  await expect(page.getByTestId("compare-fvi").first()).toHaveText(a!.fvi!.toFixed(1));
  // the find dialog: a name, a pick, the third card
  await page.getByRole("button", { name: "Find by name…" }).click();
  const dialog = page.getByRole("dialog", { name: "Find a mine or a country" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Name of a mine or country").fill(c!.name!);
  await dialog.getByTestId("find-matches").getByRole("button", { name: new RegExp(c!.name!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) }).first().click();
  await expect(dialog).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`ids=${a!.id}(%2C|,)${b!.id}(%2C|,)`));
  await expect(page.getByTestId("compare-fvi")).toHaveCount(3);
  await shoot(page, "compare");
  await expectAccessible(page);
});

test("change a weight and see the ranking move", async ({ page }) => {
  await page.goto("/weights/");
  const list = page.getByTestId("reranked");
  await expect(list.locator("li").first()).toBeVisible();
  const before = await list.locator("li").allTextContents();
  const slider = page.locator('[data-testid^="custom-weight-"]').first();
  await slider.focus();
  await slider.press("End");
  await expect.poll(async () => (await list.locator("li").allTextContents()).join("|"), { timeout: 30_000 }).not.toBe(before.join("|"));
  await expect(page.getByTestId("weights-history")).toBeVisible();
  await shoot(page, "weights");
  await expectAccessible(page);
});

for (const [url, name, heading] of [
  ["/track-record/", "track-record", "Track record"],
  ["/data-quality/", "data-quality", "Data quality"],
  ["/system/", "system-health", "System health"],
] as const) {
  test(`${heading} page loads its panels`, async ({ page }) => {
    await page.goto(url);
    await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
    await expect(page.getByText("Loading…")).toHaveCount(0);
    await expect(page.getByText(/Could not load/)).toHaveCount(0);
    await shoot(page, name);
    await expectAccessible(page);
  });
}

test("Track record shows the strict back-test, the worldwide mine model beside size", async ({ page }) => {
  await page.goto("/track-record/");
  const gem = page.getByRole("region", { name: "Back-test gem_closure" });
  await expect(gem).toBeVisible();
  await expect(gem.getByRole("cell", { name: /model \(fvi_mine_global\)/ }).first()).toBeVisible();
  await expect(gem.getByRole("cell", { name: /size alone/ }).first()).toBeVisible();
  await expect(page.getByRole("region", { name: "Back-test us_mine" })).toBeVisible();
  // the reliability diagram: one figure per level and horizon, read from the back-test's bins
  const cal = page.getByTestId("calibration");
  await expect(cal.getByRole("img").first()).toBeVisible();
  await page.getByRole("tab", { name: "gem_closure" }).click();
  await expect(cal.getByRole("img", { name: /Reliability diagram: gem_closure/ }).first()).toBeVisible();
  await expect(cal.getByRole("img", { name: /Reliability diagram: us_mine/ })).toHaveCount(0);
});

test("Data quality lists the quarantined rows with their reason, or says there are none", async ({ page }) => {
  const q = await apiGet<{ total: number; counts: { source_id: string; reason: string }[] }>(page, "/v1/dashboard/quarantine?limit=1");
  await page.goto("/data-quality/");
  const card = page.locator("section").filter({ has: page.getByRole("heading", { name: "Quarantined rows" }) });
  if (q.total > 0) {
    await expect(card.getByTestId("quarantine")).toContainText(q.counts[0]!.reason.slice(0, 30));
  } else {
    await expect(card).toContainText("No row was quarantined");
  }
});

test("a panel whose route fails says so and offers a retry, the rest of the profile stands", async ({ page }) => {
  const mine = await topMine(page);
  await page.route(/\/v1\/dashboard\/production\//, (route) => route.fulfill({ status: 500, contentType: "application/json", body: '{"detail":"boom"}' }));
  await page.goto(`/mine/?id=${encodeURIComponent(mine.id)}`);
  const card = page.locator("section").filter({ has: page.getByRole("heading", { name: "Production history (Mt per year)" }) });
  await expect(card).toContainText("Could not load");
  await expect(card.getByRole("button", { name: "Retry" })).toBeVisible();
  await expect(page.getByTestId("pillar-medians")).toBeVisible();
});

test("Data quality shows the worldwide model's signals, used and left out, with their coverage", async ({ page }) => {
  await page.goto("/data-quality/");
  const table = page.getByRole("region", { name: "Worldwide mine model features and their coverage" });
  await expect(table).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: "log_capacity" })).toContainText("used");
  await expect(table.getByRole("row").filter({ hasText: "workforce_size" })).toContainText("left out");
});

test("API down: a clear banner, not a blank page", async ({ page }) => {
  await page.route(/\/(v1\/.*|health)(\?.*)?$/, (route) => route.abort("connectionrefused"));
  await page.goto("/");
  await expect(page.getByRole("alert").filter({ hasText: "not answering" })).toContainText("The FVI API is not answering");
  await expect(page.getByRole("heading", { name: /overview/i })).toBeVisible();
  await shoot(page, "api-down");
});
