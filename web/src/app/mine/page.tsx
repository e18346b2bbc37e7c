"use client";
import { Suspense } from "react";
import { Profile } from "@/components/Profile";
import { parseHorizon, parsePersona } from "@/components/Selectors";
import { useQueryState } from "@/lib/hooks";

function MinePage() {
  const [params, setParams] = useQueryState();
  const id = params.get("id");
  if (!id) return <p>No mine given: open one from the <a href="/mines/">mines table</a>.</p>;
  const kind = params.get("type") === "us_mine" || id.toUpperCase().startsWith("MSHA") ? "us_mine" : "mine";
  return <Profile kind={kind} id={id} horizon={parseHorizon(params.get("horizon"))} persona={parsePersona(params.get("persona"))} onChange={setParams} />;
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <MinePage />
    </Suspense>
  );
}
