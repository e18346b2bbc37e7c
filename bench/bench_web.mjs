// Dashboard speed in Debian's Chromium (driven by web/node_modules' Playwright) against a running `fvi serve`.
// Started by bench/bench_web.py, which owns the server; prints one JSON object on stdout.
// Env: FVI_BENCH_BASE_URL, FVI_BENCH_MINE_ID, FVI_BENCH_EXPECTED_POINTS, FVI_BENCH_RUNS, FVI_E2E_CHROMIUM.
import { createRequire } from "node:module";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const { chromium } = require("@playwright/test");

const base = process.env.FVI_BENCH_BASE_URL ?? "http://127.0.0.1:8000";
const mineId = process.env.FVI_BENCH_MINE_ID;
const expected = Number(process.env.FVI_BENCH_EXPECTED_POINTS ?? "0");
const runs = Number(process.env.FVI_BENCH_RUNS ?? "3");
// 6,000 rows of 36 px in 10 s: ~380 px a frame, a dragged scrollbar (a fling would be faster, a wheel slower)
const scrollMs = Number(process.env.FVI_BENCH_SCROLL_MS ?? "10000");

// FCP and LCP as Chromium reports them (buffered entries, read once the page has settled)
const PAINTS = `new Promise((resolve) => {
  const out = { fcp: null, lcp: null };
  for (const e of performance.getEntriesByName("first-contentful-paint")) out.fcp = e.startTime;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) out.lcp = e.startTime; })
    .observe({ type: "largest-contentful-paint", buffered: true });
  setTimeout(() => resolve(out), 300);
})`;

/** Time (ms after navigation start) when the map holds `n` drawn mines: the canvas' data-points-drawn, or SVG circles. */
function waitDrawn(page, n) {
  return page.waitForFunction(
    (want) => {
      const map = document.querySelector('[data-testid="world-map"]');
      if (!map) return false;
      const drawn = Number(map.getAttribute("data-points-drawn") ?? map.querySelectorAll("circle[data-mine-id]").length);
      if (drawn < want) return false;
      return performance.now();
    },
    n,
    { polling: "raf", timeout: 120_000 },
  );
}

async function load(browser, path, { map }) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  let bytes = 0;
  page.on("response", async (r) => {
    const len = Number(r.headers()["content-length"] ?? 0);
    bytes += len;
  });
  await page.goto(base + path, { waitUntil: "commit" });
  const drawnAt = map ? await (await waitDrawn(page, expected)).jsonValue() : null;
  await page.waitForLoadState("load");
  if (!map) await page.getByRole("heading", { level: 1 }).first().waitFor();
  await page.waitForTimeout(200);
  const paints = await page.evaluate(PAINTS);
  await ctx.close();
  return { fcp_ms: paints.fcp, lcp_ms: paints.lcp, all_mines_drawn_ms: drawnAt, transfer_bytes_declared: bytes };
}

async function scroll(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  // the API requests the page makes before its table is filled (the list of mines: one request, or pages)
  const reads = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/v1/")) reads.push(u.pathname);
  });
  const t0 = Date.now();
  await page.goto(base + "/mines/");
  const box = page.getByTestId("mines-scroller");
  await box.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="mines-scroller"] [role="row"]').length > 10, null, { timeout: 120_000 });
  const filledMs = Date.now() - t0;
  const apiRequests = reads.slice();
  const rows = await page.getByTestId("mine-count").textContent();
  // scroll the virtualised list top to bottom in SCROLL_MS, one step per frame; frame times from rAF timestamps
  const frames = await box.evaluate(
    (el, ms) =>
      new Promise((resolve) => {
        const deltas = [];
        // Chromium's own record of frames whose work took > 50 ms (Long Animation Frames API)
        const loafs = [];
        let obs = null;
        try {
          obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) loafs.push(e.duration); });
          obs.observe({ type: "long-animation-frame" });
        } catch { obs = null; }
        const start = performance.now();
        let last = start;
        const total = el.scrollHeight - el.clientHeight;
        const step = (t) => {
          deltas.push(t - last);
          last = t;
          const f = Math.min(1, (t - start) / ms);
          el.scrollTop = f * total;
          if (f < 1) requestAnimationFrame(step);
          else {
            obs?.disconnect();
            resolve({ deltas: deltas.slice(1), scrolled_px: total, loafs: obs ? loafs : null });
          }
        };
        requestAnimationFrame(step);
      }),
    scrollMs,
  );
  await ctx.close();
  const d = frames.deltas.slice().sort((a, b) => a - b);
  const q = (p) => d[Math.min(d.length - 1, Math.floor(p * d.length))];
  return {
    api_requests: apiRequests.length,
    api_requests_paths: [...new Set(apiRequests)],
    table_filled_ms: filledMs,
    scroll_ms: scrollMs,
    rows_label: rows,
    scrolled_px: frames.scrolled_px,
    frames: d.length,
    frame_ms_p50: q(0.5),
    frame_ms_p95: q(0.95),
    frame_ms_max: d[d.length - 1],
    fps_mean: d.length / (d.reduce((a, b) => a + b, 0) / 1000),
    share_dropped_frames: d.filter((x) => x > 25).length / d.length,
    long_animation_frames: frames.loafs === null ? null : frames.loafs.length,
    long_animation_frame_max_ms: frames.loafs?.length ? Math.max(...frames.loafs) : null,
  };
}

const browser = await chromium.launch({
  executablePath: process.env.FVI_E2E_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const result = { base, expected_points: expected, runs, overview: [], mine_profile: [], mines_scroll: null };
try {
  for (let i = 0; i < runs; i++) {
    result.overview.push(await load(browser, "/", { map: true }));
    if (mineId) result.mine_profile.push(await load(browser, `/mine/?id=${encodeURIComponent(mineId)}`, { map: false }));
  }
  result.mines_scroll = await scroll(browser);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
