"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { ThemeToggle } from "@/components/ThemeToggle";

export const PAGES: { href: string; label: string }[] = [
  { href: "/", label: "Overview" },
  { href: "/mines/", label: "Mines" },
  { href: "/compare/", label: "Compare" },
  { href: "/weights/", label: "Weights" },
  { href: "/track-record/", label: "Track record" },
  { href: "/data-quality/", label: "Data quality" },
  { href: "/system/", label: "System health" },
  { href: "/chat/", label: "Chat" },
];

export function Nav() {
  const path = usePathname();
  return (
    <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <nav aria-label="Main" className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-1 px-3 py-2 sm:px-6">
        <Link href="/" className="mr-2 font-bold text-slate-900 no-underline dark:text-slate-100">
          FVI
        </Link>
        {PAGES.map((p) => {
          const active = p.href === "/" ? path === "/" : path.startsWith(p.href.replace(/\/$/, ""));
          return (
            <Link
              key={p.href}
              href={p.href}
              aria-current={active ? "page" : undefined}
              className={`text-sm no-underline hover:underline ${active ? "font-semibold text-slate-900 dark:text-white" : "text-slate-700 dark:text-slate-300"}`}
            >
              {p.label}
            </Link>
          );
        })}
        <ThemeToggle />
      </nav>
    </header>
  );
}
