"use client";
/** Light/dark theme: the reader's choice kept in localStorage, applied before first paint by THEME_SCRIPT. */
import { useEffect, useState } from "react";

export const THEME_KEY = "fvi-theme";

/** Runs in <head> before the page paints: the stored choice, else the system's preference. */
export const THEME_SCRIPT = `(function(){try{var t=localStorage.getItem("${THEME_KEY}");var d=t==="dark"||(t!=="light"&&window.matchMedia("(prefers-color-scheme: dark)").matches);var e=document.documentElement;e.classList.toggle("dark",d);e.style.colorScheme=d?"dark":"light";}catch(_){}})();`;

export function applyTheme(dark: boolean): void {
  const el = document.documentElement;
  el.classList.toggle("dark", dark);
  el.style.colorScheme = dark ? "dark" : "light";
}

export function ThemeToggle() {
  const [dark, setDark] = useState<boolean | null>(null);
  useEffect(() => {
    setDark(document.documentElement.classList.contains("dark"));
    // follow the system while the reader has not chosen
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const follow = (e: MediaQueryListEvent) => {
      let stored: string | null = null;
      try {
        stored = localStorage.getItem(THEME_KEY);
      } catch {
        /* storage blocked */
      }
      if (stored !== "dark" && stored !== "light") {
        applyTheme(e.matches);
        setDark(e.matches);
      }
    };
    mq.addEventListener("change", follow);
    return () => mq.removeEventListener("change", follow);
  }, []);
  const flip = () => {
    const next = !(dark ?? document.documentElement.classList.contains("dark"));
    applyTheme(next);
    setDark(next);
    try {
      localStorage.setItem(THEME_KEY, next ? "dark" : "light");
    } catch {
      /* storage blocked: the choice lasts for this page only */
    }
  };
  return (
    <button
      type="button"
      onClick={flip}
      aria-pressed={dark === true}
      data-testid="theme-toggle"
      className="ml-auto rounded border border-slate-300 px-2 py-0.5 text-sm text-slate-800 hover:bg-slate-100 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800"
    >
      <span aria-hidden="true">{dark ? "☾" : "☀"}</span> Dark mode
    </button>
  );
}
