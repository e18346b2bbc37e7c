import type { Metadata } from "next";
import type { ReactNode } from "react";
import { ApiBanner } from "@/components/ApiBanner";
import { Nav } from "@/components/Nav";
import { Providers } from "@/components/Providers";
import { THEME_SCRIPT } from "@/components/ThemeToggle";
import "./globals.css";

export const metadata: Metadata = {
  title: "FVI — Future Viability Index for coal",
  description: "How likely each coal mine and coal country is to still be viable in 5, 10 and 20 years, why, and how sure we are.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* the stored theme before first paint (inline: nothing fetched) */}
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <a href="#main" className="sr-only focus:not-sr-only">
          Skip to content
        </a>
        <Providers>
          <Nav />
          <ApiBanner />
          <main id="main" className="mx-auto max-w-7xl px-3 py-4 sm:px-6">
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
