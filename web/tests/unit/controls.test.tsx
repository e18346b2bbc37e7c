import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Select } from "@/components/Select";
import { Slider } from "@/components/Slider";
import { Tabs } from "@/components/Tabs";

beforeEach(() => {
  // jsdom has no ResizeObserver (Radix measures the slider's thumb with it)
  vi.stubGlobal("ResizeObserver", class { observe() {} unobserve() {} disconnect() {} });
  // nor scrollIntoView / pointer capture (Radix Select scrolls to the chosen option when it opens)
  Element.prototype.scrollIntoView ??= function () {};
  Element.prototype.hasPointerCapture ??= () => false;
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("Slider (Radix)", () => {
  it("is one named ARIA slider whose End key sends the maximum", () => {
    const onChange = vi.fn();
    render(<Slider label="Weight of Necessity" value={0.2} min={0} max={1} step={0.01} onChange={onChange} thumbProps={{ "data-testid": "weight-01" }} />);
    const thumb = screen.getByRole("slider", { name: "Weight of Necessity" });
    expect(thumb.getAttribute("data-testid")).toBe("weight-01");
    expect(thumb.getAttribute("aria-valuenow")).toBe("0.2");
    fireEvent.keyDown(thumb, { key: "End" });
    expect(onChange).toHaveBeenCalledWith(1);
  });
});

describe("Select (Radix)", () => {
  it("is a named combobox showing its value; a key press loads Radix and opens the list", async () => {
    render(<Select label="Horizon" value="H10" options={[{ value: "H5", label: "5 years" }, { value: "H10", label: "10 years" }]} onChange={() => {}} />);
    const waiting = screen.getByRole("combobox", { name: "Horizon" });
    expect(waiting.textContent).toContain("10 years");
    expect(waiting.getAttribute("aria-expanded")).toBe("false");
    fireEvent.keyDown(waiting, { key: "Enter" });
    expect(await screen.findByRole("listbox")).toBeTruthy();
    expect(screen.getByRole("option", { name: "5 years" })).toBeTruthy();
    // the open list hides the rest of the page from assistive technology (modal), the trigger included
    const box = screen.getByRole("combobox", { name: "Horizon", hidden: true });
    expect(box.textContent).toContain("10 years");
  });
  it("shows an empty value as its own choice (Radix reserves the empty string)", async () => {
    render(<Select label="Country" value="" options={[{ value: "", label: "all" }, { value: "ZAF" }]} onChange={() => {}} />);
    expect(screen.getByRole("combobox", { name: "Country" }).textContent).toContain("all");
  });
});

describe("Tabs (Radix)", () => {
  it("mounts only the open panel and switches on a click", () => {
    function T() {
      const [v, setV] = useState("a");
      return <Tabs label="Outcomes" value={v} onChange={setV} tabs={[{ value: "a", content: <p>panel A</p> }, { value: "b", content: <p>panel B</p> }]} />;
    }
    render(<T />);
    expect(screen.getByRole("tablist", { name: "Outcomes" })).toBeTruthy();
    expect(screen.queryByText("panel B")).toBeNull();
    const b = screen.getByRole("tab", { name: "b" });
    fireEvent.mouseDown(b, { button: 0, ctrlKey: false });
    expect(screen.getByText("panel B")).toBeTruthy();
    expect(screen.queryByText("panel A")).toBeNull();
  });
});
