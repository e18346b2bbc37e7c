import { describe, expect, it } from "vitest";
import { parsePrometheus, requestStats } from "@/lib/prometheus";

const TEXT = `# HELP fvi_http_requests_total Requests by route template and status.
# TYPE fvi_http_requests_total counter
fvi_http_requests_total{method="GET",route="/v1/mines",status="200"} 8.0
fvi_http_requests_total{method="GET",route="/v1/mines/{mine_id}",status="503"} 2.0
fvi_http_request_duration_seconds_count{method="GET",route="/v1/mines"} 10.0
fvi_http_request_duration_seconds_sum{method="GET",route="/v1/mines"} 0.5
fvi_cache_hits{backend="memory",namespace="fvi-api"} 3.0
fvi_cache_misses{backend="memory",namespace="fvi-api"} 1.0
`;

describe("requestStats", () => {
  it("reads counts, 5xx, mean latency and the cache hit rate", () => {
    const s = requestStats(parsePrometheus(TEXT));
    expect(s).toEqual({ requests: 10, errors5xx: 2, meanMs: 50, cacheHitRate: 0.75 });
  });
  it("says nothing it cannot compute", () => {
    expect(requestStats(parsePrometheus(""))).toEqual({ requests: 0, errors5xx: 0, meanMs: null, cacheHitRate: null });
  });
});
