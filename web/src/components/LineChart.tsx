/** A small SVG line chart (a few series of tens of points): no chart library in the first-load JavaScript. */

export type Series = { label: string; colour: string; points: [number, number][]; dashed?: boolean };

const W = 480;
const H = 240;
const M = { top: 10, right: 12, bottom: 34, left: 44 };

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

function label(v: number): string {
  return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(Math.abs(v) < 1 ? 2 : 1);
}

export function LineChart({
  series,
  label: aria,
  xDomain,
  yDomain,
  xLabel,
  yLabel,
  xTicks,
  diagonal = false,
  testId,
}: {
  series: Series[];
  label: string;
  xDomain?: [number, number];
  yDomain?: [number, number];
  xLabel?: string;
  yLabel?: string;
  /** Category labels for x = 0, 1, 2, … (runs) instead of numeric ticks. */
  xTicks?: string[];
  diagonal?: boolean;
  testId?: string;
}) {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const [x0, x1] = xDomain ?? (xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1]);
  const [y0, y1] = yDomain ?? [Math.min(0, ...ys), ys.length ? Math.max(...ys) * 1.05 || 1 : 1];
  const xPad = x1 > x0 ? 0 : 0.5;
  const sx = (x: number) => M.left + ((x - (x0 - xPad)) / (x1 + xPad - (x0 - xPad))) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const xt = xTicks ? xTicks.map((_, i) => i) : ticks(x0, x1, 6).filter((v) => !xs.length || Number.isInteger(v) || xDomain);
  return (
    <figure className="w-full" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={aria} className="h-auto w-full text-slate-700 dark:text-slate-200">
        <g fontSize="10" fill="currentColor">
          {ticks(y0, y1).map((t) => (
            <g key={`y${t}`}>
              <line x1={M.left} x2={W - M.right} y1={sy(t)} y2={sy(t)} stroke="currentColor" strokeOpacity={0.15} />
              <text x={M.left - 4} y={sy(t) + 3} textAnchor="end">
                {label(t)}
              </text>
            </g>
          ))}
          {xt.map((t) => (
            <text key={`x${t}`} x={sx(t)} y={H - M.bottom + 14} textAnchor="middle">
              {xTicks ? xTicks[t] : label(t)}
            </text>
          ))}
          {xLabel ? (
            <text x={(M.left + W - M.right) / 2} y={H - 4} textAnchor="middle">
              {xLabel}
            </text>
          ) : null}
          {yLabel ? (
            <text x={10} y={M.top + 4} textAnchor="start">
              {yLabel}
            </text>
          ) : null}
        </g>
        <line x1={M.left} x2={M.left} y1={M.top} y2={H - M.bottom} stroke="currentColor" strokeOpacity={0.5} />
        <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} stroke="currentColor" strokeOpacity={0.5} />
        {diagonal ? <line x1={sx(x0)} y1={sy(y0)} x2={sx(x1)} y2={sy(y1)} stroke="currentColor" strokeDasharray="4 3" strokeOpacity={0.6} /> : null}
        {series.map((s) => (
          <g key={s.label}>
            <polyline
              points={s.points.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ")}
              fill="none"
              stroke={s.colour}
              strokeWidth={1.8}
              strokeDasharray={s.dashed ? "5 3" : undefined}
            />
            {s.points.map(([x, y]) => (
              <circle key={`${x}-${y}`} cx={sx(x)} cy={sy(y)} r={2.5} fill={s.colour} />
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="mt-1 flex flex-wrap gap-x-3 gap-y-1 text-xs text-slate-700 dark:text-slate-300">
        {series.map((s) => (
          <span key={s.label} className="flex items-center gap-1">
            <span aria-hidden="true" className="inline-block h-0.5 w-4" style={{ background: s.colour }} />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
