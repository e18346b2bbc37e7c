"use client";
/** The line chart drawn by Recharts (loaded on demand by LineChart.tsx: not part of any page's first load). */
import { CartesianGrid, Line, LineChart as RLineChart, ReferenceLine, XAxis, YAxis } from "recharts";
import type { LineChartProps } from "./LineChart";

function label(v: number): string {
  return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(Math.abs(v) < 1 ? 2 : 1);
}

export default function LineChartImpl({ series, xDomain, yDomain, xLabel, yLabel, xTicks, diagonal = false, width, height }: LineChartProps & { width?: number; height?: number }) {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const x: [number, number] = xDomain ?? (xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1]);
  const y: [number, number] = yDomain ?? [Math.min(0, ...ys), ys.length ? Math.max(...ys) * 1.05 || 1 : 1];
  const xPad = x[1] > x[0] ? 0 : 0.5;
  const sized = width !== undefined && height !== undefined;
  return (
    <RLineChart
      {...(sized ? { width, height } : { responsive: true, style: { width: "100%", aspectRatio: 2 } })}
      margin={{ top: 10, right: 12, bottom: xLabel ? 18 : 4, left: 0 }}
      accessibilityLayer={false}
      className="text-slate-700 dark:text-slate-200"
    >
      <CartesianGrid stroke="currentColor" strokeOpacity={0.15} vertical={false} />
      <XAxis
        type="number"
        dataKey="x"
        domain={[x[0] - xPad, x[1] + xPad]}
        allowDuplicatedCategory={false}
        ticks={xTicks ? xTicks.map((_, i) => i) : undefined}
        tickFormatter={(v: number) => (xTicks ? (xTicks[v] ?? "") : label(v))}
        allowDecimals={!!xDomain}
        tick={{ fill: "currentColor", fontSize: 10 }}
        stroke="currentColor"
        label={xLabel ? { value: xLabel, position: "insideBottom", offset: -12, fill: "currentColor", fontSize: 10 } : undefined}
      />
      <YAxis
        type="number"
        domain={y}
        width={44}
        tickFormatter={label}
        tick={{ fill: "currentColor", fontSize: 10 }}
        stroke="currentColor"
        label={yLabel ? { value: yLabel, position: "insideTopLeft", offset: 0, fill: "currentColor", fontSize: 10, dx: 48 } : undefined}
      />
      {diagonal ? <ReferenceLine segment={[{ x: x[0], y: y[0] }, { x: x[1], y: y[1] }]} stroke="currentColor" strokeDasharray="4 3" strokeOpacity={0.6} ifOverflow="hidden" /> : null}
      {series.map((s) => (
        <Line
          key={s.label}
          data={s.points.map(([px, py]) => ({ x: px, y: py }))}
          dataKey="y"
          name={s.label}
          stroke={s.colour}
          strokeWidth={1.8}
          strokeDasharray={s.dashed ? "5 3" : undefined}
          dot={{ r: 2.5, fill: s.colour, stroke: s.colour }}
          isAnimationActive={false}
          type="linear"
        />
      ))}
    </RLineChart>
  );
}
