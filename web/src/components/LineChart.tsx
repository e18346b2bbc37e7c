"use client";
/**
 * A line chart of a few series of tens of points, drawn by Recharts. The chart library is loaded when a chart
 * first comes near the viewport (next/dynamic behind an IntersectionObserver): it is in no page's first-load
 * JavaScript, and a page whose charts sit below the fold does not parse it while it loads. The figure keeps
 * its size meanwhile (no layout shift), and its name and legend are here, read by assistive technology at once.
 */
import dynamic from "next/dynamic";
import { useEffect, useRef, useState } from "react";

export type Series = { label: string; colour: string; points: [number, number][]; dashed?: boolean };

export type LineChartProps = {
  series: Series[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  xLabel?: string;
  yLabel?: string;
  /** Category labels for x = 0, 1, 2, … (runs) instead of numeric ticks. */
  xTicks?: string[];
  diagonal?: boolean;
};

const Chart = dynamic(() => import("./LineChartImpl"), {
  ssr: false,
  loading: () => <div className="flex h-full items-center justify-center text-xs text-slate-600 dark:text-slate-300">Drawing the chart…</div>,
});

/** True once the element has come within `margin` of the viewport (at once where IntersectionObserver is missing). */
function useNear(margin = "200px") {
  const ref = useRef<HTMLDivElement>(null);
  const [near, setNear] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || near) return;
    if (typeof IntersectionObserver === "undefined") return setNear(true);
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), { rootMargin: margin });
    io.observe(el);
    return () => io.disconnect();
  }, [near, margin]);
  return [ref, near] as const;
}

export function LineChart({ label: aria, testId, ...props }: LineChartProps & { label: string; testId?: string }) {
  const [ref, near] = useNear();
  return (
    <figure className="w-full" data-testid={testId}>
      <div ref={ref} role="img" aria-label={aria} className="aspect-[2/1] w-full" data-series={props.series.length}>
        {near ? <Chart {...props} /> : null}
      </div>
      <figcaption className="mt-1 flex flex-wrap gap-x-3 gap-y-1 text-xs text-slate-700 dark:text-slate-300">
        {props.series.map((s) => (
          <span key={s.label} className="flex items-center gap-1">
            <span aria-hidden="true" className="inline-block h-0.5 w-4" style={{ background: s.colour }} />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
