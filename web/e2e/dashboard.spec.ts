import { expect, test } from "@playwright/test";
import { apiGet, expectAccessible, shoot } from "./helpers";

type Mine = { id: string; name: string | null; fvi: number | null; rank: number | null; country_iso3: string | null; latitude: number | null; longitude: number | null };
type Page_ = { items: Mine[]; total: number };

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
  await expect(map.locator("circle[data-mine-id]")).toHaveCount(withCoords, { timeout: 60_000 });
  console.log(`overview: map with all ${withCoords} mines drawn ${Date.now() - started} ms after navigation`);
  await expect(map.locator("path[data-iso3]").first()).toBeAttached(); // offline boundaries drawn
  await expect(page.getByText("Mines scored")).toBeVisible();
  await expect(page.getByRole("heading", { name: /Most viable mines/ })).toBeVisible();
  await shoot(page, "overview");
  // thousands of circles make axe slow: the map's marks are left out, the map itself (role img, label) is checked
  await expectAccessible(page, ['[data-testid="world-map"] > g']);
  // horizon selector goes into the URL
  await page.getByLabel("Horizon").selectOption("H20");
  await expect(page).toHaveURL(/horizon=H20/);
});

test("search a mine, open its profile, change the horizon, move a what-if slider and see the change", async ({ page }) => {
  const mine = await topMine(page);
  await page.goto("/mines/");
  await expect(page.getByTestId("mine-count")).toContainText("mines");
  await page.getByLabel("Search mines by name").fill(mine.name!);
  await expect(page).toHaveURL(new RegExp(`q=${encodeURIComponent(mine.name!).replace(/%20/g, "(\\+|%20)")}`));
  await shoot(page, "mines");
  await expectAccessible(page);
  await page.getByRole("link", { name: mine.name!, exact: true }).first().click();
  await expect(page).toHaveURL(new RegExp(`/mine/\\?id=${encodeURIComponent(mine.id)}`));
  await expect(page.getByRole("heading", { level: 1, name: mine.name! })).toBeVisible();
  await expect(page.getByTestId("fvi-H10")).toContainText(mine.fvi!.toFixed(1));
  await page.getByLabel("Horizon").selectOption("H5");
  await expect(page).toHaveURL(/horizon=H5/);
  await expect(page.getByRole("heading", { name: "What if? (H5)" })).toBeVisible();
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
  const dot = page.locator(`circle[data-mine-id="${mine.id}"]`);
  await expect(dot).toBeAttached();
  await dot.dispatchEvent("click");
  await expect(page).toHaveURL(new RegExp(`/mine/\\?id=${encodeURIComponent(mine.id)}`));
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
});

test("open a country: profile and its mines on the map", async ({ page }) => {
  const mine = await topMine(page);
  await page.goto(`/country/?iso3=${mine.country_iso3}`);
  await expect(page.getByRole("heading", { name: `Mines in ${mine.country_iso3}` })).toBeVisible();
  await expect(page.getByTestId("fvi-H10")).toBeVisible();
  await expect(page.locator(`circle[data-mine-id="${mine.id}"]`)).toBeAttached();
  await shoot(page, "country-profile");
  await expectAccessible(page);
});

test("compare two mines side by side", async ({ page }) => {
  const list = await apiGet<Page_>(page, "/v1/mines?limit=2&sort=rank");
  const [a, b] = list.items;
  await page.goto(`/compare/?ids=${a!.id},${b!.id}`);
  await expect(page.getByTestId("compare-fvi")).toHaveCount(2);
  await expect(page.getByTestId("compare-fvi").first()).toHaveText(a!.fvi!.toFixed(1));
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
