"use client";
/** The chat: a question in, an answer streamed sentence by sentence, each sentence's citations beside it. */
import Link from "next/link";
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { Badge, Card } from "@/components/ui";
import { api, unwrap } from "@/lib/api";
import {
  ChatError,
  citationPlace,
  dashboardLink,
  externalLink,
  noteWarnings,
  splitCitations,
  streamChat,
  type ChatCompleted,
  type ChatEntity,
  type Citation,
} from "@/lib/chat";

type Status = "idle" | "streaming" | "done" | "stopped" | "error";

type Turn = {
  question: string;
  status: Status;
  sentences: string[];
  retrieved: Citation[];
  notes: string[];
  completed: ChatCompleted | null;
  error: string | null;
  entityName: string | null;
};

const EMPTY: Turn = { question: "", status: "idle", sentences: [], retrieved: [], notes: [], completed: null, error: null, entityName: null };
export const MAX_QUESTION = 1000;

function backendLabel(backend: string): string {
  if (backend.startsWith("llm:")) return `language model (${backend.slice(4)})`;
  if (backend === "extractive") return "extractive (quoted from the sources, no language model)";
  if (backend === "refusal") return "out of scope";
  return backend;
}

function SourceLink({ c }: { c: Citation }) {
  const inner = dashboardLink(c.source_url);
  if (inner) return <Link href={inner}>open in the dashboard</Link>;
  const ext = externalLink(c.source_url);
  if (ext) return <a href={ext} rel="noreferrer">source</a>;
  return c.source_url ? <span className="break-all">{c.source_url}</span> : null;
}

type DocChunk = { chunk_id: string; page: number | null; section: string | null; text: string };

/** The cited passage: the retrieved excerpt, and the whole chunk from the document on request. */
function Passage({ c }: { c: Citation }) {
  const [whole, setWhole] = useState<{ text: string | null; error: string | null; loading: boolean }>({ text: null, error: null, loading: false });
  const load = async () => {
    setWhole({ text: null, error: null, loading: true });
    try {
      const r = await api.GET("/v1/documents/{doc_id}", { params: { path: { doc_id: c.doc_id } } });
      const doc = unwrap(r) as { chunks?: DocChunk[] };
      const chunk = doc.chunks?.find((k) => k.chunk_id === c.chunk_id);
      setWhole({ text: chunk ? chunk.text : null, error: chunk ? null : "the passage is no longer in the document index", loading: false });
    } catch (e) {
      setWhole({ text: null, error: e instanceof Error ? e.message : String(e), loading: false });
    }
  };
  const canLoad = c.kind !== "warehouse" && !!c.chunk_id;
  return (
    <div className="mt-1">
      <blockquote className="whitespace-pre-line border-l-4 border-slate-300 pl-3 text-slate-800 dark:border-slate-600 dark:text-slate-200">{whole.text ?? c.quote}</blockquote>
      {canLoad && whole.text === null ? (
        <button type="button" onClick={() => void load()} disabled={whole.loading} className="mt-1 text-xs underline">
          {whole.loading ? "Loading the passage…" : "Show the whole passage"}
        </button>
      ) : null}
      {whole.error ? <p className="mt-1 text-xs text-red-800 dark:text-red-300">Could not load the passage: {whole.error}</p> : null}
    </div>
  );
}

/** `[n]` marks as links to the source list (they open the cited passage). */
function Marks({ refs, onOpen, idPrefix }: { refs: number[]; onOpen: (n: number) => void; idPrefix: string }) {
  return (
    <>
      {refs.map((n) => (
        <a
          key={n}
          href={`#${idPrefix}-source-${n}`}
          onClick={() => onOpen(n)}
          className="ml-0.5 align-super text-xs font-semibold no-underline hover:underline"
          aria-label={`source ${n}`}
        >
          [{n}]
        </a>
      ))}
    </>
  );
}

export function ChatPanel({
  question,
  onSubmit,
  entity,
  entityLabel,
  autoFocus = false,
  headingLevel = 2,
}: {
  /** The question to answer: a new value asks it (from the URL on the chat page). */
  question: string | null;
  /** The reader asked `q` (the owner puts it where `question` comes from). */
  onSubmit: (q: string) => void;
  entity?: ChatEntity | null;
  entityLabel?: string | null;
  autoFocus?: boolean;
  headingLevel?: 2 | 3;
}) {
  const uid = useId().replace(/:/g, "");
  const [draft, setDraft] = useState(question ?? "");
  const [turn, setTurn] = useState<Turn>(EMPTY);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const session = useRef<string | null>(null);
  const ctl = useRef<AbortController | null>(null);
  const asked = useRef<string | null>(null);
  const entityKey = entity ? `${entity.type}:${entity.id}` : "";

  const ask = useCallback(
    (q: string) => {
      ctl.current?.abort();
      const abort = new AbortController();
      ctl.current = abort;
      asked.current = q;
      setOpen(new Set());
      setTurn({ ...EMPTY, question: q, status: "streaming" });
      const body = { question: q, session_id: session.current, entity: entity ?? null };
      streamChat(
        body,
        (ev) => {
          if (abort.signal.aborted) return;
          setTurn((t) => {
            switch (ev.event) {
              case "started":
                session.current = ev.data.session_id ?? session.current;
                return { ...t, entityName: ev.data.entity?.name ?? null };
              case "retrieved":
                return { ...t, retrieved: ev.data.citations, notes: ev.data.notes };
              case "delta":
                return { ...t, sentences: [...t.sentences, ev.data.text.trim()] };
              case "completed":
                session.current = ev.data.session_id ?? session.current;
                return {
                  ...t,
                  status: "done",
                  completed: ev.data,
                  notes: ev.data.notes ?? t.notes,
                  // a server that did not stream: the whole answer at once
                  sentences: t.sentences.length ? t.sentences : ev.data.answer ? [ev.data.answer] : [],
                };
              case "error":
                return { ...t, status: "error", error: `The answer failed on the server (HTTP ${ev.data.status ?? 500}): ${ev.data.detail ?? "no detail"}. Try again.` };
              default:
                return t;
            }
          });
        },
        abort.signal,
      ).catch((err: unknown) => {
        if (abort.signal.aborted) return;
        const msg = err instanceof ChatError ? err.message : `The chat failed: ${err instanceof Error ? err.message : String(err)}`;
        setTurn((t) => ({ ...t, status: "error", error: msg }));
      });
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [entityKey],
  );

  // a new question from the owner (the URL): ask it once
  useEffect(() => {
    if (question && question !== asked.current) {
      setDraft(question);
      ask(question);
    }
  }, [question, ask]);
  // a new scope starts a new conversation
  useEffect(() => {
    session.current = null;
  }, [entityKey]);
  useEffect(
    () => () => {
      ctl.current?.abort();
      asked.current = null; // mounted again (React's strict mode does it): ask again
    },
    [],
  );

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const q = draft.trim();
    if (!q) return;
    if (q === question) ask(q); // the same question again: the URL does not change
    onSubmit(q);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) submit(e as unknown as FormEvent);
  };
  const stop = () => {
    ctl.current?.abort();
    setTurn((t) => ({ ...t, status: "stopped", error: null }));
  };

  const byN = useMemo(() => {
    // the retrieved citation's quote is the passage itself; the completed one's is the answer's sentence
    const m = new Map<number, Citation>();
    for (const c of turn.completed?.citations ?? []) m.set(c.n, c);
    for (const c of turn.retrieved) m.set(c.n, c);
    return m;
  }, [turn.retrieved, turn.completed]);
  const rows = useMemo(() => turn.sentences.map((s) => splitCitations(s)), [turn.sentences]);
  const cited = useMemo(() => {
    const seen: number[] = [];
    for (const r of rows) for (const n of r.refs) if (byN.has(n) && !seen.includes(n)) seen.push(n);
    return seen.map((n) => byN.get(n) as Citation);
  }, [rows, byN]);
  const others = turn.retrieved.filter((c) => !cited.some((x) => x.n === c.n));
  const warnings = noteWarnings(turn.notes);
  const plainNotes = turn.notes.filter((n) => !noteWarnings([n]).length);
  const openSource = (n: number) => setOpen((s) => new Set(s).add(n));
  const H = headingLevel === 2 ? "h2" : "h3";
  const busy = turn.status === "streaming";
  const refused = turn.completed?.refused === true;

  return (
    <div className="space-y-4">
      <form onSubmit={submit} className="space-y-2" aria-label="Ask a question">
        <label htmlFor={`${uid}-q`} className="block text-sm font-medium">
          {entityLabel ? `Your question about ${entityLabel}` : "Your question"}
        </label>
        <textarea
          id={`${uid}-q`}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          rows={2}
          maxLength={MAX_QUESTION}
          // eslint-disable-next-line jsx-a11y/no-autofocus
          autoFocus={autoFocus}
          placeholder="e.g. How does Climate TRACE estimate coal mine methane?"
          className="w-full rounded border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-100"
          aria-describedby={`${uid}-hint`}
        />
        <div className="flex flex-wrap items-center gap-2">
          <button type="submit" disabled={!draft.trim()} className="rounded bg-blue-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-800 disabled:opacity-60">
            Ask
          </button>
          {busy ? (
            <button type="button" onClick={stop} className="rounded border border-slate-400 px-3 py-1.5 text-sm">
              Stop
            </button>
          ) : null}
          <span id={`${uid}-hint`} className="text-xs text-slate-700 dark:text-slate-300">
            Enter asks, Shift+Enter starts a new line. Every sentence of the answer cites a document passage or a warehouse fact.
          </span>
        </div>
      </form>

      {turn.status === "idle" && !turn.question ? null : (
        <section aria-labelledby={`${uid}-answer`} className="space-y-3">
          <div className="flex flex-wrap items-center gap-2">
            <H id={`${uid}-answer`} className="text-base font-semibold">
              Answer
            </H>
            <span role="status" aria-live="polite" data-testid="chat-status" className="text-sm text-slate-700 dark:text-slate-300">
              {busy ? (turn.retrieved.length ? "Answering…" : "Looking for sources…") : turn.status === "done" ? "Done" : turn.status === "stopped" ? "Stopped: the answer is incomplete" : turn.status === "error" ? "Failed" : ""}
            </span>
            {turn.completed ? <Badge tone={refused ? "amber" : "blue"}>{backendLabel(turn.completed.backend)}</Badge> : null}
          </div>
          <p className="text-sm text-slate-700 dark:text-slate-300">
            <span className="font-medium">Question:</span> {turn.question}
            {turn.entityName ? <> · about {turn.entityName}</> : null}
          </p>
          {turn.error ? (
            <div role="alert" data-testid="chat-error" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
              {turn.error}
              <button type="button" onClick={() => ask(turn.question)} className="ml-3 rounded border border-red-400 px-2 py-0.5">
                Try again
              </button>
            </div>
          ) : null}
          {warnings.map((w) => (
            <div
              key={w.text}
              role="note"
              data-testid="chat-warning"
              className={`rounded border p-3 text-sm ${w.tone === "red" ? "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" : "border-amber-300 bg-amber-50 text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-50"}`}
            >
              {w.text}
            </div>
          ))}
          {rows.length ? (
            <ol data-testid="chat-answer" aria-busy={busy} className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900">
              {rows.map((r, i) => (
                <li key={i} data-testid="answer-sentence" className="grid gap-2 p-3 md:grid-cols-[minmax(0,1fr)_minmax(0,18rem)]">
                  <p className="text-sm leading-6">
                    {r.text}
                    <Marks refs={r.refs} onOpen={openSource} idPrefix={uid} />
                  </p>
                  <ul aria-label={`Sources of sentence ${i + 1}`} className="space-y-1 text-xs" data-testid="sentence-citations">
                    {r.refs.map((n) => {
                      const c = byN.get(n);
                      return (
                        <li key={n} className="rounded bg-slate-100 px-2 py-1 dark:bg-slate-800">
                          <a href={`#${uid}-source-${n}`} onClick={() => openSource(n)} className="font-semibold">
                            [{n}]
                          </a>{" "}
                          {c ? (
                            <>
                              {c.title} <span className="text-slate-700 dark:text-slate-300">· {citationPlace(c)}</span>
                            </>
                          ) : (
                            "(not among the retrieved sources)"
                          )}
                        </li>
                      );
                    })}
                    {!r.refs.length && !refused ? <li className="text-slate-700 dark:text-slate-300">no citation</li> : null}
                  </ul>
                </li>
              ))}
            </ol>
          ) : busy ? (
            <p className="text-sm text-slate-700 dark:text-slate-300">Waiting for the first sentence…</p>
          ) : turn.status === "done" ? (
            <p className="text-sm">No answer came back for this question.</p>
          ) : null}

          {cited.length ? (
            <Card title="Sources cited">
              <ol className="space-y-2 text-sm" data-testid="chat-sources">
                {cited.map((c) => (
                  <li key={c.n} id={`${uid}-source-${c.n}`} className="scroll-mt-4">
                    <details
                      open={open.has(c.n)}
                      onToggle={(e) => {
                        const isOpen = (e.currentTarget as HTMLDetailsElement).open;
                        setOpen((s) => {
                          const next = new Set(s);
                          if (isOpen) next.add(c.n);
                          else next.delete(c.n);
                          return next;
                        });
                      }}
                    >
                      <summary className="cursor-pointer">
                        <span className="font-semibold">[{c.n}]</span> {c.title} <Badge>{c.kind === "warehouse" ? "warehouse fact" : c.kind}</Badge>{" "}
                        <span className="text-slate-700 dark:text-slate-300">{citationPlace(c)}</span>
                      </summary>
                      <Passage c={c} />
                      <p className="mt-1 text-xs text-slate-700 dark:text-slate-300">
                        {c.doc_id}
                        {c.page !== null && c.page !== undefined ? ` · page ${c.page}` : ""} · licence: {c.licence} · <SourceLink c={c} />
                      </p>
                    </details>
                  </li>
                ))}
              </ol>
            </Card>
          ) : null}
          {others.length && turn.status !== "streaming" ? (
            <details className="text-sm">
              <summary className="cursor-pointer">Also retrieved, not cited ({others.length})</summary>
              <ul className="mt-1 list-disc space-y-0.5 pl-5 text-xs">
                {others.map((c) => (
                  <li key={c.n}>
                    [{c.n}] {c.title} · {citationPlace(c)}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
          {turn.completed?.dropped_sentences?.length ? (
            <details className="text-sm">
              <summary className="cursor-pointer">{turn.completed.dropped_sentences.length} sentence(s) dropped by the grounding check</summary>
              <ul className="mt-1 list-disc space-y-0.5 pl-5 text-xs">
                {turn.completed.dropped_sentences.map((d, i) => (
                  <li key={i}>
                    “{d.sentence}” — {d.reason}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
          {plainNotes.length ? (
            <ul className="list-disc pl-5 text-xs text-slate-700 dark:text-slate-300" aria-label="Notes on the answer">
              {plainNotes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : null}
        </section>
      )}
    </div>
  );
}
