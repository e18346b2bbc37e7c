"use client";
import { Suspense } from "react";
import { DataTable } from "@/components/DataTable";
import { QuarantinedRows } from "@/components/Panels";
import { Select } from "@/components/Select";
import { Card, State } from "@/components/ui";
import { api, unwrap } from "@/lib/api";
import { useAsync, useQueryState } from "@/lib/hooks";

const SORTS = ["metric_id", "null_rate", "share_imputed", "latest_year"] as const;
type Sort = (typeof SORTS)[number];

const ENTITY_OPTIONS = [{ value: "", label: "all" }, { value: "mine" }, { value: "country" }];

function DataQuality() {
  const [params, setParams] = useQueryState();
  const entity = params.get("entity") === "mine" ? "mine" : params.get("entity") === "country" ? "country" : undefined;
  const sort: Sort = (SORTS as readonly string[]).includes(params.get("sort") ?? "") ? (params.get("sort") as Sort) : "metric_id";
  const dq = useAsync(["data-quality", entity, sort], async (signal) => unwrap(await api.GET("/v1/data-quality", { params: { query: { entity, sort, limit: 500 } }, signal })));
  const sources = useAsync(["sources"], async (signal) => unwrap(await api.GET("/v1/sources", { params: { query: { limit: 500 } }, signal })));
  const features = useAsync(["model-features"], async (signal) => unwrap(await api.GET("/v1/data-quality/model-features", { signal })));
  const featureRows = ((features.data?.items ?? []) as Record<string, unknown>[]).map((f) => {
    const cov = (f.coverage ?? {}) as Record<string, number | null>;
    const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)} %`);
    return {
      feature: f.id,
      used: f.used ? "used" : "left out",
      column: f.column,
      operating: pct(cov.operating),
      closed: pct(cov.closed),
      reason: f.reason,
    };
  });
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Data quality</h1>
      <Card
        title="Coverage per metric (vw_metric_dq)"
        actions={
          <div className="flex gap-2 text-sm">
            <span className="flex items-center gap-1">
              <span aria-hidden="true">Entity</span>
              <Select label="Entity" value={entity ?? ""} options={ENTITY_OPTIONS} onChange={(v) => setParams({ entity: v || null })} />
            </span>
            <span className="flex items-center gap-1">
              <span aria-hidden="true">Sort</span>
              <Select label="Sort" value={sort} options={SORTS.map((s) => ({ value: s }))} onChange={(v) => setParams({ sort: v === "metric_id" ? null : v })} />
            </span>
          </div>
        }
      >
        <State loading={dq.loading} error={dq.error} onRetry={dq.reload} empty={!dq.loading && (dq.data?.items.length ?? 0) === 0}>
          {dq.data?.note ? <p className="mb-2 text-sm">{dq.data.note}</p> : null}
          <DataTable rows={(dq.data?.items ?? []) as Record<string, unknown>[]} caption="Coverage per metric" />
        </State>
      </Card>
      <Card title="Worldwide mine model: the GEM signals it uses and leaves out">
        <p className="mb-2 text-sm">
          Share of operating and of closed GEM mines that carry each signal. A signal recorded for most operating mines but few closed ones
          would teach the model the tracker&apos;s bookkeeping (&quot;still listed in full&quot;) instead of closure risk, so it is left out.
        </p>
        <State loading={features.loading} error={features.error} onRetry={features.reload} empty={!features.loading && featureRows.length === 0}>
          <DataTable rows={featureRows as Record<string, unknown>[]} caption="Worldwide mine model features and their coverage" />
        </State>
      </Card>
      <QuarantinedRows />
      <Card title="Sources, releases and licences">
        <State loading={sources.loading} error={sources.error} onRetry={sources.reload} empty={!sources.loading && (sources.data?.items.length ?? 0) === 0}>
          <DataTable rows={(sources.data?.items ?? []) as Record<string, unknown>[]} caption="Sources" />
        </State>
      </Card>
    </div>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <DataQuality />
    </Suspense>
  );
}
