import { act, cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiBanner } from "@/components/ApiBanner";
import { normalise } from "@/components/WhatIf";
import { LineChart } from "@/components/LineChart";
import LineChartImpl from "@/components/LineChartImpl";
import { WorldMap, pick } from "@/components/WorldMap";
import { reportApiStatus } from "@/lib/api";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  reportApiStatus(false);
});

describe("ApiBanner", () => {
  it("shows an alert when /health cannot be reached and hides it when the API answers again", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    render(<ApiBanner intervalMs={60_000} />);
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", expect.stringContaining("not answering"));
    act(() => reportApiStatus(false));
    await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
  });
  it("stays hidden while /health answers", async () => {
    const ok = vi.fn().mockResolvedValue(new Response('{"status":"ok"}', { status: 200 }));
    vi.stubGlobal("fetch", ok);
    render(<ApiBanner intervalMs={60_000} />);
    await waitFor(() => expect(ok).toHaveBeenCalled());
    expect(screen.queryByRole("alert")).toBeNull();
  });
});

describe("WorldMap", () => {
  it("lays out offline country shapes and says how many mines it has to draw (on its canvas)", async () => {
    const points = [
      { id: "M1", name: "Alpha", lat: -26.1, lon: 29.1, value: 60, capacity: 10 },
      { id: "M3", name: "Gamma", lat: -23, lon: 148, value: 80, capacity: 40 },
    ];
    // jsdom has no ResizeObserver (nor a 2D canvas): the map waits for a width that never comes
    vi.stubGlobal("ResizeObserver", class { observe() {} disconnect() {} });
    const { container } = render(<WorldMap points={points} />);
    const fig = screen.getByTestId("world-map");
    expect(fig.getAttribute("data-points")).toBe("2");
    expect(container.querySelector("canvas[data-testid='world-map-mines']")).not.toBeNull();
    await waitFor(() => expect(container.querySelectorAll("path[data-iso3]").length).toBeGreaterThan(150), { timeout: 10_000 });
    expect(container.querySelector('path[data-iso3="ZAF"]')).not.toBeNull();
  });
  it("picks the smallest circle under the pointer, with a little slop, and nothing far away", () => {
    const mk = (id: string, x: number, y: number, r: number) => ({ p: { id, name: id, lat: 0, lon: 0, value: null, capacity: null }, x, y, r });
    const drawn = [mk("big", 100, 100, 9), mk("small", 103, 100, 1.5)];
    expect(pick(drawn, 103, 100)?.p.id).toBe("small");
    expect(pick(drawn, 95, 100)?.p.id).toBe("big");
    expect(pick(drawn, 100, 111)?.p.id).toBe("big"); // 11 from the centre: within 9 + slop
    expect(pick(drawn, 100, 130)).toBeNull();
  });
});

describe("LineChart", () => {
  const series = [
    { label: "EIA", colour: "#000", points: [[2020, 1], [2021, 2], [2022, 1.5]] as [number, number][] },
    { label: "GEM", colour: "#111", points: [[2021, 3]] as [number, number][] },
  ];
  it("names the figure and lists the series at once, before the chart library has loaded", () => {
    render(<LineChart series={series} label="Production" diagonal />);
    expect(screen.getByRole("img", { name: "Production" })).toBeTruthy();
    expect(screen.getByText("EIA")).toBeTruthy();
    expect(screen.getByText("GEM")).toBeTruthy();
  });
  it("draws one Recharts line per series with a dot per point, and the diagonal when asked", () => {
    const { container } = render(<LineChartImpl series={series} diagonal width={480} height={240} />);
    // a one-point series is a dot, not a line
    expect(container.querySelectorAll("path.recharts-line-curve")).toHaveLength(1);
    expect(container.querySelectorAll(".recharts-line-dots circle, circle.recharts-dot")).toHaveLength(4);
    expect(container.querySelectorAll(".recharts-reference-line")).toHaveLength(1);
  });
});

describe("normalise", () => {
  it("makes weights sum to one and clips negatives", () => {
    expect(normalise({ a: 2, b: 2, c: -1 })).toEqual({ a: 0.5, b: 0.5, c: 0 });
  });
});

describe("ScoreDrivers", () => {
  const profile = {
    entity_type: "mine",
    pillar_names: { "01": "Necessity", "02": "Resource extraction & scarcity" },
    score_drivers: {
      available: true,
      horizons: {
        H10: {
          persona: "analyst",
          drivers: [
            { metric_id: "a", name: "Mine capacity", pillar: "02", metric_of: "own", value_text: "10.0 Mt/yr", typical_text: "12.5 Mt/yr", imputation: "observed", points: -1.5, text: "Mine capacity … lowers the score by 1.5 points." },
            { metric_id: "b", name: "Coal share of electricity", pillar: "01", metric_of: "country", value_text: "0 %", typical_text: "35.0 %", imputation: "country_median", points: 6.1, text: "… raises the score by 6.1 points." },
          ],
        },
      },
    },
  };
  it("ranks the drivers by size with plain labels, signs and words", async () => {
    const { ScoreDrivers } = await import("@/components/Profile");
    render(<ScoreDrivers profile={profile} horizon="H10" />);
    const items = screen.getAllByTestId("score-driver");
    expect(items.map((li) => li.textContent)).toEqual([
      expect.stringMatching(/^1\.Coal share of electricity \(its country\)0 % vs typical 35\.0 % · Necessity · imputed \(country median\)\+6\.1 points: raises the score/),
      expect.stringMatching(/^2\.Mine capacity10\.0 Mt\/yr vs typical 12\.5 Mt\/yr · Resource extraction & scarcity−1\.5 points: lowers the score/),
    ]);
  });
  it("says when a horizon has no drivers, and when the build has none", async () => {
    const { ScoreDrivers } = await import("@/components/Profile");
    render(<ScoreDrivers profile={profile} horizon="H5" />);
    expect(screen.getByText("No drivers stored at H5. Pick H10 to see them.")).toBeTruthy();
    cleanup();
    render(<ScoreDrivers profile={{ ...profile, score_drivers: { available: false, note: "no contributions stored" } }} horizon="H10" />);
    expect(screen.getByText("no contributions stored")).toBeTruthy();
  });
});
