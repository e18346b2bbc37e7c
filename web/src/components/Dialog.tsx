"use client";
/** A modal dialog on Radix UI's Dialog primitive (focus trapped and restored, Escape closes, title and description). */
import * as RDialog from "@radix-ui/react-dialog";
import type { ReactNode } from "react";

export function Dialog({
  trigger,
  title,
  description,
  open,
  onOpenChange,
  children,
}: {
  trigger: ReactNode;
  title: string;
  description: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  children: ReactNode;
}) {
  return (
    <RDialog.Root open={open} onOpenChange={onOpenChange}>
      <RDialog.Trigger asChild>{trigger}</RDialog.Trigger>
      <RDialog.Portal>
        <RDialog.Overlay className="fixed inset-0 z-40 bg-slate-900/50" />
        <RDialog.Content className="fixed left-1/2 top-[10vh] z-50 max-h-[80vh] w-[min(36rem,calc(100vw-2rem))] -translate-x-1/2 overflow-auto rounded-lg border border-slate-200 bg-white p-4 text-slate-900 shadow-xl dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
          <div className="mb-2 flex items-start justify-between gap-3">
            <RDialog.Title className="text-base font-semibold">{title}</RDialog.Title>
            <RDialog.Close className="rounded border px-2 py-0.5 text-sm" aria-label="Close">
              ✕
            </RDialog.Close>
          </div>
          <RDialog.Description className="mb-3 text-sm text-slate-700 dark:text-slate-300">{description}</RDialog.Description>
          {children}
        </RDialog.Content>
      </RDialog.Portal>
    </RDialog.Root>
  );
}
