import { defineConfig } from "@playwright/test";

/**
 * Browser e2e against a real `fvi serve` (tests/e2e/test_web_e2e.py starts it and sets FVI_E2E_BASE_URL).
 * Debian's Chromium: Playwright's own browser download cannot work here.
 */
const baseURL = process.env.FVI_E2E_BASE_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  testDir: "./e2e",
  outputDir: process.env.FVI_E2E_OUTPUT ?? "./test-results",
  timeout: 60_000,
  expect: { timeout: 20_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    headless: true,
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: process.env.FVI_E2E_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    },
    trace: "off",
    screenshot: "only-on-failure",
  },
});
