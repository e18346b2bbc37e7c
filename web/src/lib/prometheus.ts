/** Reads the API's own Prometheus text (/metrics) into the few numbers the health page shows. */

export type Sample = { name: string; labels: Record<string, string>; value: number };

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

export type RequestStats = { requests: number; errors5xx: number; meanMs: number | null; cacheHitRate: number | null };

export function requestStats(samples: Sample[]): RequestStats {
  const sum = (name: string, pick: (s: Sample) => boolean = () => true) =>
    samples.filter((s) => s.name === name && pick(s)).reduce((t, s) => t + s.value, 0);
  const requests = sum("fvi_http_requests_total");
  const errors5xx = sum("fvi_http_requests_total", (s) => (s.labels.status ?? "").startsWith("5"));
  const count = sum("fvi_http_request_duration_seconds_count");
  const total = sum("fvi_http_request_duration_seconds_sum");
  const hits = sum("fvi_cache_hits");
  const misses = sum("fvi_cache_misses");
  return {
    requests,
    errors5xx,
    meanMs: count > 0 ? (1000 * total) / count : null,
    cacheHitRate: hits + misses > 0 ? hits / (hits + misses) : null,
  };
}
