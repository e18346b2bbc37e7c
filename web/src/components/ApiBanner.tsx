"use client";
import { useEffect, useState } from "react";
import { onApiStatus, reportApiStatus } from "@/lib/api";

/** A clear banner when the API does not answer (checked on every call and every 15 s), never a blank page. */
export function ApiBanner({ intervalMs = 15000 }: { intervalMs?: number }) {
  const [down, setDown] = useState(false);
  const [detail, setDetail] = useState<string | null>(null);
  useEffect(() => onApiStatus((d, why) => {
    setDown(d);
    setDetail(why);
  }), []);
  useEffect(() => {
    let stop = false;
    const check = async () => {
      try {
        const r = await fetch("/health", { cache: "no-store" });
        if (!stop) reportApiStatus(!r.ok, r.ok ? null : `health answered HTTP ${r.status}`);
      } catch (e) {
        if (!stop) reportApiStatus(true, e instanceof Error ? e.message : String(e));
      }
    };
    void check();
    const t = setInterval(check, intervalMs);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [intervalMs]);
  if (!down) return null;
  return (
    <div role="alert" className="border-b border-red-300 bg-red-50 px-4 py-3 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <strong>The FVI API is not answering.</strong> Figures on this page may be missing or stale; it retries on its own.
      {detail ? <span className="ml-2 text-sm">({detail})</span> : null}
    </div>
  );
}
