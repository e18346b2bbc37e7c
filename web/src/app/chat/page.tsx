"use client";
import Link from "next/link";
import { Suspense } from "react";
import { ChatPanel } from "@/components/Chat";
import { parseEntity } from "@/lib/chat";
import { useQueryState } from "@/lib/hooks";

function ChatPage() {
  const [params, setParams] = useQueryState();
  const q = params.get("q");
  const entity = parseEntity(params.get("entity"));
  const label = entity ? `${entity.type} ${entity.id}` : null;
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-2xl font-bold">Chat</h1>
        <p className="text-sm text-slate-700 dark:text-slate-300">
          Ask about coal mines, coal countries and the index. Answers come from the ingested documents and the warehouse&apos;s own
          figures; every sentence says where it comes from, and a sentence whose numbers no source holds is dropped. The question stays
          in the address, so an answer can be shared as a link.
        </p>
        {entity ? (
          <p className="mt-1 text-sm">
            Scoped to {label} ·{" "}
            <Link href={entity.type === "mine" ? `/mine/?id=${entity.id}` : `/country/?iso3=${entity.id}`}>its profile</Link> ·{" "}
            <button type="button" className="underline" onClick={() => setParams({ entity: null })}>
              ask about everything
            </button>
          </p>
        ) : null}
      </div>
      <ChatPanel key={params.get("entity") ?? ""} question={q} onSubmit={(next) => setParams({ q: next })} entity={entity} entityLabel={label} autoFocus={!q} />
    </div>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <ChatPage />
    </Suspense>
  );
}
