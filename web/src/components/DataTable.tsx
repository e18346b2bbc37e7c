/** A plain table of loosely typed rows (routes that answer `dict[str, Any]` items). */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function DataTable({ rows, columns, caption }: { rows: Record<string, unknown>[]; columns?: string[]; caption: string }) {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 10);
  return (
    <div className="overflow-x-auto" role="region" aria-label={caption} tabIndex={0}>
      <table className="w-full text-left text-xs">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c} scope="col" className="border-b border-slate-300 px-1 py-1 dark:border-slate-700">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} className="border-b border-slate-100 dark:border-slate-800">
              {cols.map((c) => (
                <td key={c} className="max-w-[18rem] truncate px-1 py-0.5 tabular-nums">
                  {cell(r[c])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
