import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import * as path from "node:path";

export const SHOTS = process.env.FVI_E2E_SCREENSHOTS ?? "screenshots";

export async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** axe-core: no serious or critical violation on the page as it stands. */
export async function expectAccessible(page: Page, exclude: string[] = []): Promise<void> {
  let axe = new AxeBuilder({ page });
  for (const sel of exclude) axe = axe.exclude(sel);
  const result = await axe.analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const summary = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}) e.g. ${v.nodes[0]?.target.join(" ")}`);
  expect(summary, summary.join("\n")).toEqual([]);
}

/** The API the page talks to, read directly (to know what the page must show). */
export async function apiGet<T>(page: Page, url: string): Promise<T> {
  const r = await page.request.get(url);
  expect(r.ok(), `${url} answered ${r.status()}`).toBeTruthy();
  return (await r.json()) as T;
}

/** Pick an option of one of the dashboard's selects (Radix UI Select: a combobox button and a listbox of options). */
export async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByRole("combobox", { name: label, exact: true }).click();
  await page.getByRole("option", { name: option, exact: typeof option === "string" }).click();
  await expect(page.getByRole("listbox")).toHaveCount(0);
}
