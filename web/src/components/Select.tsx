"use client";
/**
 * A labelled select on Radix UI's Select primitive (keyboard, typeahead, screen-reader semantics; styled here).
 *
 * Radix Select (with its popper and scroll lock) is a third of a page's own JavaScript and costs main-thread
 * time to load and hydrate, yet no page needs it until someone opens a select: it is its own chunk
 * (React.lazy), loaded on the first interaction, so it is in no page's first load.
 */
import { Suspense, lazy, useId, useState } from "react";
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
  /** Open at once (the first press on the trigger that loaded it). */
  defaultOpen?: boolean;
  /** Take the focus when mounted (it replaces the trigger that had it). */
  autoFocus?: boolean;
};

const SelectImpl = lazy(() => import("./SelectImpl"));

/** The trigger as it looks before Radix is loaded: a combobox showing the value; any interaction loads Radix. */
function Waiting({ label, value, options, className = "", onWake }: SelectProps & { onWake?: (open: boolean) => void }) {
  const shown = options.find((o) => o.value === value);
  const listId = useId();
  return (
    <button
      type="button"
      role="combobox"
      aria-expanded="false"
      aria-controls={listId}
      aria-haspopup="listbox"
      aria-label={label}
      className={`${inputClass} inline-flex min-w-[5rem] items-center justify-between gap-2 ${className}`}
      onPointerDown={(e) => {
        if (e.button === 0 && !e.ctrlKey) {
          e.preventDefault();
          onWake?.(true);
        }
      }}
      onKeyDown={(e) => {
        if ([" ", "Enter", "ArrowDown", "ArrowUp"].includes(e.key)) {
          e.preventDefault();
          onWake?.(true);
        }
      }}
      onPointerEnter={() => void import("./SelectImpl")}
      onFocus={() => void import("./SelectImpl")}
    >
      <span>{shown ? (shown.label ?? shown.value) : ""}</span>
      <span aria-hidden="true" className="text-xs">
        ▾
      </span>
    </button>
  );
}

/**
 * Radix Select is loaded on the first interaction with the trigger (hover or focus fetch it; a press or an
 * arrow key opens it), so a page that is only read never parses it.
 */
export function Select(props: SelectProps) {
  const [live, setLive] = useState<null | { open: boolean }>(null);
  if (!live) return <Waiting {...props} onWake={(open) => setLive({ open })} />;
  return (
    <Suspense fallback={<Waiting {...props} />}>
      <SelectImpl {...props} defaultOpen={live.open} autoFocus />
    </Suspense>
  );
}
