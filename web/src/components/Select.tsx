"use client";
/**
 * A labelled select on Radix UI's Select primitive (keyboard, typeahead, screen-reader semantics; styled here).
 *
 * Radix Select (with its popper and scroll lock) is a third of a page's own JavaScript, and no page needs it
 * before it has painted: it is loaded as its own chunk (React.lazy), so it is not in any page's first load.
 * The prerendered HTML already holds the real trigger; until the chunk has come the same trigger shows, inert.
 */
import { Suspense, lazy } from "react";
import { inputClass } from "./ui";

export type Option = { value: string; label?: string };

export type SelectProps = {
  /** The accessible name. */
  label: string;
  value: string;
  options: readonly Option[];
  onChange: (value: string) => void;
  className?: string;
  testId?: string;
};

const SelectImpl = lazy(() => import("./SelectImpl"));

function Waiting({ label, value, options, className = "" }: SelectProps) {
  const shown = options.find((o) => o.value === value);
  return (
    <button type="button" disabled aria-label={label} className={`${inputClass} inline-flex min-w-[5rem] items-center justify-between gap-2 ${className}`}>
      <span>{shown ? (shown.label ?? shown.value) : ""}</span>
      <span aria-hidden="true" className="text-xs">
        ▾
      </span>
    </button>
  );
}

export function Select(props: SelectProps) {
  return (
    <Suspense fallback={<Waiting {...props} />}>
      <SelectImpl {...props} />
    </Suspense>
  );
}
