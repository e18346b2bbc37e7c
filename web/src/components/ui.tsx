/**
 * The dashboard's small building blocks. Radix UI has no Card or Badge primitive: both are built on Radix's
 * composition primitive (Slot), so `asChild` renders them as the element given (a link, a list item)
 * with the card's or badge's styling merged in. Tabs, Dialog, Slider and Select are Radix primitives
 * (their own modules, so a page loads only the ones it uses).
 */
import { Slot } from "@radix-ui/react-slot";
import type { ReactNode } from "react";

export function Card({
  title,
  children,
  className = "",
  actions,
  asChild = false,
}: {
  title?: ReactNode;
  children: ReactNode;
  className?: string;
  actions?: ReactNode;
  /** Render as the single child element (e.g. an <article>) instead of a <section>. */
  asChild?: boolean;
}) {
  const cls = `rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900 ${className}`;
  if (asChild) return <Slot className={cls}>{children}</Slot>;
  return (
    <section className={cls}>
      {title || actions ? (
        <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
          {title ? <h2 className="text-base font-semibold">{title}</h2> : <span />}
          {actions}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export function Badge({ children, tone = "slate", asChild = false }: { children: ReactNode; tone?: "slate" | "red" | "amber" | "green" | "blue"; asChild?: boolean }) {
  const tones = {
    slate: "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-100",
    red: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-50",
    amber: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-50",
    green: "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-50",
    blue: "bg-blue-100 text-blue-900 dark:bg-blue-900 dark:text-blue-50",
  };
  const Comp = asChild ? Slot : "span";
  return <Comp className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${tones[tone]}`}>{children}</Comp>;
}

/** Loading, error and empty states of one panel, so no panel is ever silently blank. */
export function State({
  loading,
  error,
  empty,
  emptyText,
  onRetry,
  children,
}: {
  loading: boolean;
  error?: Error;
  empty?: boolean;
  emptyText?: string;
  onRetry?: () => void;
  children: ReactNode;
}) {
  if (error)
    return (
      <div role="status" className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100">
        Could not load: {error.message}
        {onRetry ? (
          <button type="button" onClick={onRetry} className="ml-3 rounded border border-red-300 px-2 py-0.5">
            Retry
          </button>
        ) : null}
      </div>
    );
  if (loading)
    return (
      <div role="status" aria-live="polite" className="text-sm text-slate-700 dark:text-slate-200">
        Loading…
      </div>
    );
  if (empty) return <p className="text-sm text-slate-600 dark:text-slate-300">{emptyText ?? "Nothing to show."}</p>;
  return <>{children}</>;
}

export function Kpi({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
      <div className="text-xs uppercase tracking-wide text-slate-600 dark:text-slate-300">{label}</div>
      <div className="mt-1 text-2xl font-semibold tabular-nums">{value}</div>
      {hint ? <div className="mt-1 text-xs text-slate-600 dark:text-slate-300">{hint}</div> : null}
    </div>
  );
}

export const inputClass =
  "rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-100";
