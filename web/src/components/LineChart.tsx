"use client";
/**
 * A line chart of a few series of tens of points, drawn by Recharts. The chart library is loaded when a chart
 * first shows (next/dynamic), so it is not in any page's first-load JavaScript; the figure keeps its size
 * while it loads (no layout shift), and its name and legend are here, read by assistive technology at once.
 */
import dynamic from "next/dynamic";

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

export function LineChart({ label: aria, testId, ...props }: LineChartProps & { label: string; testId?: string }) {
  return (
    <figure className="w-full" data-testid={testId}>
      <div role="img" aria-label={aria} className="aspect-[2/1] w-full" data-series={props.series.length}>
        <Chart {...props} />
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
