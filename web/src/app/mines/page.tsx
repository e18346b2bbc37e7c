"use client";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useRouter } from "next/navigation";
import { Suspense, memo, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type MouseEvent, type ReactNode } from "react";
import { HorizonPersona, parseHorizon, parsePersona } from "@/components/Selectors";
import { Select } from "@/components/Select";
import { Card, State, inputClass } from "@/components/ui";
import { mineTable, type Horizon, type MineType, type Persona, type TableMine } from "@/lib/api";
import { filterMines, fmt, fviColor, sortMines, toCsv, type SortKey } from "@/lib/format";
import { useAsync, useDebounced, useQueryState } from "@/lib/hooks";

const SORTS: { key: SortKey; label: string }[] = [
  { key: "rank", label: "Rank (best first)" },
  { key: "-rank", label: "Rank (worst first)" },
  { key: "-fvi", label: "FVI (high first)" },
  { key: "fvi", label: "FVI (low first)" },
  { key: "name", label: "Name" },
  { key: "-capacity", label: "Capacity (large first)" },
];
const SORT_OPTIONS = SORTS.map((s) => ({ value: s.key, label: s.label }));
const TYPE_OPTIONS = [
  { value: "mine", label: "GEM mines" },
  { value: "us_mine", label: "US (EIA) mines" },
];

/** A visible caption beside a control that carries its own accessible name. */
function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <span className="flex flex-col text-sm">
      <span aria-hidden="true">{label}</span>
      {children}
    </span>
  );
}

const CSV_COLUMNS = ["id", "name", "country_iso3", "status", "entity_type", "capacity_mtpa", "horizon", "persona", "as_of_year", "fvi", "fvi_p05", "fvi_p95", "rank", "percentile"] as const;
const ROW = 36;

function num(v: string | null): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function MinesTable() {
  const [params, setParams] = useQueryState();
  const horizon = parseHorizon(params.get("horizon"));
  const persona = parsePersona(params.get("persona"));
  const type: MineType = params.get("type") === "us_mine" ? "us_mine" : "mine";
  const sort = (SORTS.find((s) => s.key === params.get("sort"))?.key ?? "rank") as SortKey;
  const [q, setQ] = useState(params.get("q") ?? "");
  const dq = useDebounced(q, 200);
  useEffect(() => {
    if ((params.get("q") ?? "") !== dq) setParams({ q: dq || null });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dq]);
  const filter = {
    q: params.get("q") ?? undefined,
    country: params.get("country") ?? undefined,
    status: params.get("status") ?? undefined,
    fviMin: num(params.get("fmin")),
    fviMax: num(params.get("fmax")),
  };
  // every mine of the type in one request (the table filters and sorts in the browser)
  const mines = useAsync(["mine-table", type, horizon, persona], (s) => mineTable(horizon, persona, type, s));
  // 6,000+ rows filtered, sorted and listed in a deferred (interruptible) render, not inside the query's update
  const data = useDeferredValue(mines.data);
  const loading = mines.loading || mines.data !== data;
  const all = useMemo(() => data ?? [], [data]);
  const countries = useMemo(() => [...new Set(all.map((m) => m.country_iso3).filter((c): c is string => !!c))].sort(), [all]);
  const statuses = useMemo(() => [...new Set(all.map((m) => m.status).filter((c): c is string => !!c))].sort(), [all]);
  const countryOptions = useMemo(() => [{ value: "", label: "all" }, ...countries.map((c) => ({ value: c }))], [countries]);
  const statusOptions = useMemo(() => [{ value: "", label: "all" }, ...statuses.map((c) => ({ value: c }))], [statuses]);
  const rows: TableMine[] = useMemo(
    () => sortMines(filterMines(all, filter), sort),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [all, sort, filter.q, filter.country, filter.status, filter.fviMin, filter.fviMax],
  );
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-2xl font-bold">Mines</h1>
        <HorizonPersona horizon={horizon} persona={persona} onChange={setParams} />
      </div>
      <Card>
        <form className="flex flex-wrap items-end gap-3" role="search" onSubmit={(e) => e.preventDefault()}>
          <label className="text-sm">
            Search by name{" "}
            <input type="search" className={inputClass} value={q} onChange={(e) => setQ(e.target.value)} placeholder="mine name" aria-label="Search mines by name" />
          </label>
          <Field label="Country">
            <Select label="Country" value={filter.country ?? ""} options={countryOptions} onChange={(v) => setParams({ country: v || null })} />
          </Field>
          <Field label="Status">
            <Select label="Status" value={filter.status ?? ""} options={statusOptions} onChange={(v) => setParams({ status: v || null })} />
          </Field>
          <Field label="Type">
            <Select label="Mine type" value={type} options={TYPE_OPTIONS} onChange={(v) => setParams({ type: v === "us_mine" ? "us_mine" : null })} />
          </Field>
          <label className="text-sm">
            FVI from{" "}
            <input type="number" min={0} max={100} className={`${inputClass} w-20`} value={params.get("fmin") ?? ""} onChange={(e) => setParams({ fmin: e.target.value || null })} aria-label="Minimum FVI" />
          </label>
          <label className="text-sm">
            to{" "}
            <input type="number" min={0} max={100} className={`${inputClass} w-20`} value={params.get("fmax") ?? ""} onChange={(e) => setParams({ fmax: e.target.value || null })} aria-label="Maximum FVI" />
          </label>
          <Field label="Sort">
            <Select label="Sort" value={sort} options={SORT_OPTIONS} onChange={(v) => setParams({ sort: v === "rank" ? null : v })} />
          </Field>
          <button
            type="button"
            className="rounded border border-slate-400 px-3 py-1 text-sm"
            onClick={() => download(`fvi-mines-${horizon}-${persona}.csv`, toCsv(rows, CSV_COLUMNS))}
            disabled={rows.length === 0}
          >
            Download CSV
          </button>
        </form>
      </Card>
      <Card title={<span data-testid="mine-count">{loading ? "Loading mines…" : `${rows.length} of ${all.length} mines`}</span>}>
        <State loading={loading && !data} error={mines.error} onRetry={mines.reload} empty={!loading && rows.length === 0}>
          <div role="table" aria-label="Mines" aria-rowcount={rows.length + 1} className="text-sm">
            <div role="rowgroup">
            <div role="row" className={`${GRID} border-b border-slate-300 pb-1 font-semibold dark:border-slate-700`}>
              <span role="columnheader">Rank</span>
              <span role="columnheader">Mine</span>
              <span role="columnheader">Country</span>
              <span role="columnheader" className="hidden sm:block">Status</span>
              <span role="columnheader" className="hidden sm:block">Mt/yr</span>
              <span role="columnheader">FVI</span>
            </div>
            </div>
            <VirtualRows rows={rows} horizon={horizon} persona={persona} />
          </div>
        </State>
      </Card>
    </div>
  );
}

const GRID = "grid grid-cols-[2.5rem_minmax(0,1fr)_3.25rem_3.75rem] sm:grid-cols-[4rem_minmax(0,1fr)_5rem_7rem_6rem_6rem] gap-2";

/**
 * The scrolled rows, apart from the filters: the virtualiser re-renders this list (and only this list) when the
 * window of visible rows moves, so the form and its long option lists are not rendered again on every frame.
 * The scroller is a containment root (a row's layout never reaches the page) and rows are plain links; one
 * click listener on the list turns a plain click into a client-side navigation.
 */
const VirtualRows = memo(function VirtualRows({ rows, horizon, persona }: { rows: TableMine[]; horizon: Horizon; persona: Persona }) {
  const router = useRouter();
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 10 });
  const items = virtual.getVirtualItems();
  // rows are recycled: a row element is keyed by its slot (index modulo the largest window seen), so a row
  // leaving the window is reused for the one entering it (its text and offset patched) instead of one
  // element destroyed and another created, styled and laid out on every frame of a fast scroll
  const pool = useRef(0);
  pool.current = Math.max(pool.current, items.length);
  const onClick = useCallback(
    (e: MouseEvent<HTMLDivElement>) => {
      const a = (e.target as HTMLElement).closest("a");
      if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.origin !== window.location.origin) return;
      e.preventDefault();
      router.push(a.pathname + a.search);
    },
    [router],
  );
  return (
    <div
      ref={scroller}
      role="rowgroup"
      className="h-[60vh] overflow-auto [contain:strict]"
      data-testid="mines-scroller"
      tabIndex={0}
      aria-label="Mine rows"
      onClick={onClick}
    >
      <div role="none" style={{ height: virtual.getTotalSize(), position: "relative" }}>
        {items.map((v) => (
          <MineRow key={v.index % pool.current} m={rows[v.index]!} index={v.index} start={v.start} horizon={horizon} persona={persona} />
        ))}
      </div>
    </div>
  );
});

/** One table row, memoised (a row that stays in the window is not rendered again); its own layout and paint. */
const MineRow = memo(function MineRow({ m, index, start, horizon, persona }: { m: TableMine; index: number; start: number; horizon: string; persona: string }) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      className={`absolute left-0 top-0 w-full items-center border-b border-slate-100 [contain:strict] dark:border-slate-800 ${GRID}`}
      style={{ height: ROW, transform: `translateY(${start}px)` }}
    >
      <span role="cell" className="tabular-nums">{m.rank ?? "—"}</span>
      <span role="cell" className="truncate">
        <a href={`/mine/?id=${encodeURIComponent(m.id)}&horizon=${horizon}&persona=${persona}`}>{m.name ?? m.id}</a>
      </span>
      <span role="cell">
        {m.country_iso3 ? <a href={`/country/?iso3=${m.country_iso3}&horizon=${horizon}&persona=${persona}`}>{m.country_iso3}</a> : "—"}
      </span>
      <span role="cell" className="hidden sm:block">{m.status ?? "—"}</span>
      <span role="cell" className="hidden tabular-nums sm:block">{fmt(m.capacity_mtpa)}</span>
      <span role="cell" className="flex items-center gap-1 tabular-nums">
        <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-full" style={{ background: fviColor(m.fvi) }} />
        {fmt(m.fvi)}
      </span>
    </div>
  );
});

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <MinesTable />
    </Suspense>
  );
}
