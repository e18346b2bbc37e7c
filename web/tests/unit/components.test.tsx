import { act, cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiBanner } from "@/components/ApiBanner";
import { normalise } from "@/components/WhatIf";
import { WorldMap } from "@/components/WorldMap";
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
  it("draws one circle per mine, sized by capacity and coloured by FVI, and offline country shapes", async () => {
    const points = [
      { id: "M1", name: "Alpha", lat: -26.1, lon: 29.1, value: 60, capacity: 10 },
      { id: "M3", name: "Gamma", lat: -23, lon: 148, value: 80, capacity: 40 },
    ];
    const { container } = render(<WorldMap points={points} />);
    const circles = container.querySelectorAll("circle[data-mine-id]");
    expect(circles).toHaveLength(2);
    const r = Object.fromEntries([...circles].map((c) => [c.getAttribute("data-mine-id"), Number(c.getAttribute("r"))]));
    expect(r.M3).toBeGreaterThan(r.M1!);
    await waitFor(() => expect(container.querySelectorAll("path[data-iso3]").length).toBeGreaterThan(150), { timeout: 10_000 });
    expect(container.querySelector('path[data-iso3="ZAF"]')).not.toBeNull();
  });
});

describe("normalise", () => {
  it("makes weights sum to one and clips negatives", () => {
    expect(normalise({ a: 2, b: 2, c: -1 })).toEqual({ a: 0.5, b: 0.5, c: 0 });
  });
});
