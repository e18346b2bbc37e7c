"use client";
/** Tabs on Radix UI's Tabs primitive (roving focus, arrow keys, ARIA tablist/tab/tabpanel); only the open panel is mounted. */
import * as RTabs from "@radix-ui/react-tabs";
import type { ReactNode } from "react";

export function Tabs({ label, value, onChange, tabs }: { label: string; value: string; onChange: (v: string) => void; tabs: { value: string; label?: ReactNode; content: ReactNode }[] }) {
  return (
    <RTabs.Root value={value} onValueChange={onChange}>
      <RTabs.List aria-label={label} className="mb-2 flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-700">
        {tabs.map((t) => (
          <RTabs.Trigger
            key={t.value}
            value={t.value}
            className="-mb-px rounded-t border border-transparent px-3 py-1 text-sm data-[state=active]:border-slate-200 data-[state=active]:border-b-white data-[state=active]:bg-white data-[state=active]:font-semibold dark:data-[state=active]:border-slate-700 dark:data-[state=active]:border-b-slate-900 dark:data-[state=active]:bg-slate-900"
          >
            {t.label ?? t.value}
          </RTabs.Trigger>
        ))}
      </RTabs.List>
      {tabs.map((t) => (
        <RTabs.Content key={t.value} value={t.value}>
          {t.content}
        </RTabs.Content>
      ))}
    </RTabs.Root>
  );
}
