"use client";
/** The Radix UI Select behind Select.tsx (loaded on its own, after the page's first scripts). */
import * as RSelect from "@radix-ui/react-select";
import type { SelectProps } from "./Select";
import { inputClass } from "./ui";

/** Radix reserves the empty string (it clears the value): an "all" choice travels as this instead. */
const EMPTY = "__all__";

export default function SelectImpl({ label, value, options, onChange, className = "", testId, defaultOpen = false, autoFocus = false }: SelectProps) {
  return (
    <RSelect.Root value={value === "" ? EMPTY : value} onValueChange={(v) => onChange(v === EMPTY ? "" : v)} defaultOpen={defaultOpen}>
      <RSelect.Trigger autoFocus={autoFocus} aria-label={label} className={`${inputClass} inline-flex min-w-[5rem] items-center justify-between gap-2 ${className}`} data-testid={testId}>
        <RSelect.Value />
        <RSelect.Icon aria-hidden="true" className="text-xs">
          ▾
        </RSelect.Icon>
      </RSelect.Trigger>
      <RSelect.Portal>
        <RSelect.Content position="popper" sideOffset={4} className="z-50 max-h-[min(24rem,var(--radix-select-content-available-height))] min-w-[var(--radix-select-trigger-width)] overflow-hidden rounded border border-slate-300 bg-white text-sm text-slate-900 shadow-lg dark:border-slate-700 dark:bg-slate-800 dark:text-slate-100">
          <RSelect.ScrollUpButton className="flex justify-center py-0.5 text-xs">▴</RSelect.ScrollUpButton>
          <RSelect.Viewport className="p-1">
            {options.map((o) => (
              <RSelect.Item
                key={o.value}
                value={o.value === "" ? EMPTY : o.value}
                className="cursor-default select-none rounded px-2 py-1 outline-none data-[highlighted]:bg-slate-200 data-[state=checked]:font-semibold dark:data-[highlighted]:bg-slate-700"
              >
                <RSelect.ItemText>{o.label ?? o.value}</RSelect.ItemText>
              </RSelect.Item>
            ))}
          </RSelect.Viewport>
          <RSelect.ScrollDownButton className="flex justify-center py-0.5 text-xs">▾</RSelect.ScrollDownButton>
        </RSelect.Content>
      </RSelect.Portal>
    </RSelect.Root>
  );
}
