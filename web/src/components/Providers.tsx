"use client";
/** The data layer of every page: one TanStack Query client (cache, request dedup) for the whole app. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

/**
 * The API's answers change only when a build lands, so they stay fresh for minutes and a focused window
 * does not refetch. No automatic retry: a failed panel says so at once and offers its own Retry button
 * (and the API-down banner is not held back by retries). No structural sharing: answers are read-only and
 * large (6,000+ mines), and deep-comparing a new answer with the old one buys nothing here.
 */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: { queries: { staleTime: 5 * 60_000, gcTime: 10 * 60_000, retry: false, refetchOnWindowFocus: false, structuralSharing: false } },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
