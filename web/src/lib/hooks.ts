"use client";
/** Data loading and URL state: every view's state lives in the query string so a view is a shareable link. */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { keepPreviousData, useQuery, type QueryKey } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";

export type Async<T> = { data: T | undefined; error: Error | undefined; loading: boolean; reload: () => void };

/**
 * One read of the API through TanStack Query: answers are cached per `key` (a view visited again, or two
 * panels asking the same thing, cost no second request; concurrent identical reads are one request), and a
 * read the page no longer needs is aborted (`signal`). The previous answer stays shown while the next loads.
 */
export function useAsync<T>(key: QueryKey, load: (signal: AbortSignal) => Promise<T>, opts: { live?: boolean } = {}): Async<T> {
  // live: a reading of the server's own state (readiness, metrics), read again on every visit
  const q = useQuery({ queryKey: key, queryFn: ({ signal }) => load(signal), placeholderData: keepPreviousData, ...(opts.live ? { staleTime: 0, gcTime: 0 } : {}) });
  const { refetch } = q;
  const reload = useCallback(() => void refetch(), [refetch]);
  return { data: q.data, error: q.error ?? undefined, loading: q.isFetching || q.isPending, reload };
}

/** Read and write query-string parameters (replace, so the back button is not flooded). */
export function useQueryState(): [URLSearchParams, (patch: Record<string, string | null>) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const set = useCallback(
    (patch: Record<string, string | null>) => {
      const next = new URLSearchParams(params.toString());
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || v === "") next.delete(k);
        else next.set(k, v);
      }
      const qs = next.toString();
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [params, router, pathname],
  );
  return [params, set];
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
