/** The chat route (`POST /v1/chat` with `stream: true`): server-sent events read from a fetch body. */
import { reportApiStatus, type Schemas } from "./api";

export type Citation = Schemas["Citation"];
export type ChatRequest = Schemas["ChatRequest"];
export type ChatEntity = NonNullable<ChatRequest["entity"]>;

/** The `completed` event: the body of the non-streaming answer. */
export type ChatCompleted = Schemas["ChatResponse"];

export type ChatEvent =
  | { event: "started"; data: { question: string; entity: { type: string; id: string; name: string } | null; session_id: string } }
  | { event: "retrieved"; data: { citations: Citation[]; notes: string[] } }
  | { event: "delta"; data: { text: string } }
  | { event: "completed"; data: ChatCompleted }
  | { event: "error"; data: { status?: number; detail?: string } };

export type SseMessage = { event: string; data: string };

/**
 * An incremental parser of `text/event-stream`: feed it chunks of text, it returns the complete
 * messages so far (blank-line separated; `event:` and `data:` fields; multi-line data joined by "\n").
 */
export class SseParser {
  private buf = "";

  push(chunk: string): SseMessage[] {
    this.buf += chunk.replace(/\r\n?/g, "\n");
    const out: SseMessage[] = [];
    let end: number;
    while ((end = this.buf.indexOf("\n\n")) >= 0) {
      const block = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 2);
      const msg = parseBlock(block);
      if (msg) out.push(msg);
    }
    return out;
  }

  /** Whatever is left when the stream ends (a last message without its blank line). */
  flush(): SseMessage[] {
    const rest = this.buf;
    this.buf = "";
    const msg = rest.trim() ? parseBlock(rest) : null;
    return msg ? [msg] : [];
  }
}

function parseBlock(block: string): SseMessage | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

/** A failure of the chat, already in words a reader can act on. */
export class ChatError extends Error {
  constructor(
    message: string,
    readonly kind: "network" | "http" | "stream",
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** The reader's message for an HTTP error answer of the chat route (`detail` is the API's own words). */
export function httpErrorMessage(status: number, detail: string | null, retryAfter: string | null = null): string {
  const why = detail ? `: ${detail}` : "";
  if (status === 401 || status === 403)
    return `The FVI API refused this request's API key (HTTP ${status})${why}. Reading is open; check the key your deployment requires.`;
  if (status === 404) return `Not found (HTTP 404)${why}.`;
  if (status === 413 || status === 422) return `The question was not accepted (HTTP ${status})${why}.`;
  if (status === 429) return `Too many questions for now (HTTP 429)${why}.${retryAfter ? ` Try again in ${retryAfter} s.` : ""}`;
  if (status === 503) return `The chat is not ready on the server (HTTP 503)${why}.`;
  if (status >= 500) return `The chat failed on the server (HTTP ${status})${why}. Try again; if it keeps failing, the server's log says why.`;
  return `The chat answered HTTP ${status}${why}.`;
}

async function detailOf(res: Response): Promise<string | null> {
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { detail?: unknown };
      if (typeof body.detail === "string") return body.detail;
      if (body.detail !== undefined) return JSON.stringify(body.detail);
    } catch {
      /* not JSON */
    }
    return text.trim() ? text.trim().slice(0, 300) : null;
  } catch {
    return null;
  }
}

/**
 * Ask a question and call `onEvent` for each server-sent event as it arrives. Resolves when the stream
 * ends; rejects with a ChatError (network, HTTP status, or a stream that ends without `completed`).
 */
export async function streamChat(
  body: Omit<ChatRequest, "stream">,
  onEvent: (ev: ChatEvent) => void,
  signal?: AbortSignal,
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  let res: Response;
  try {
    res = await fetchImpl("/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ ...body, stream: true }),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    reportApiStatus(true, err instanceof Error ? err.message : String(err));
    throw new ChatError("The FVI API is not answering, so the question could not be asked. It may be restarting; try again shortly.", "network");
  }
  if (res.status >= 500 && res.status !== 503) reportApiStatus(true, `HTTP ${res.status}`);
  else reportApiStatus(false);
  if (!res.ok) throw new ChatError(httpErrorMessage(res.status, await detailOf(res), res.headers.get("Retry-After")), "http", res.status);

  const type = res.headers.get("content-type") ?? "";
  if (!type.includes("text/event-stream")) {
    // a server that answered the whole body at once
    const data = (await res.json()) as ChatCompleted;
    onEvent({ event: "completed", data });
    return;
  }
  if (!res.body) throw new ChatError("The chat answered without a body.", "stream");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  let done = false;
  const handle = (m: SseMessage) => {
    let data: unknown;
    try {
      data = JSON.parse(m.data);
    } catch {
      throw new ChatError(`The chat sent an unreadable '${m.event}' event.`, "stream");
    }
    if (m.event === "completed" || m.event === "error") done = true;
    onEvent({ event: m.event, data } as ChatEvent);
  };
  try {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      for (const m of parser.push(value)) handle(m);
    }
    for (const m of parser.flush()) handle(m);
  } catch (err) {
    if (err instanceof ChatError || signal?.aborted) throw err;
    throw new ChatError("The connection to the chat broke before the answer was complete. Try again.", "stream");
  }
  if (!done) throw new ChatError("The chat's answer ended before it was complete. Try again.", "stream");
}

/** `[1]`, `[2, 3]`, `[2][3]` marks in a sentence, and the sentence without them. */
export function splitCitations(sentence: string): { text: string; refs: number[] } {
  const refs: number[] = [];
  const text = sentence
    .replace(/\s*\[(\d+(?:\s*,\s*\d+)*)\]/g, (_m, g: string) => {
      for (const n of g.split(",")) {
        const v = Number(n.trim());
        if (!refs.includes(v)) refs.push(v);
      }
      return "";
    })
    .replace(/\s+([.!?;:,])/g, "$1")
    .trim();
  return { text, refs };
}

/** Where a citation points, in words: page and section for documents, the table for warehouse facts. */
export function citationPlace(c: Pick<Citation, "kind" | "page" | "section">): string {
  const bits: string[] = [];
  if (c.kind === "warehouse") bits.push(`warehouse fact${c.section ? ` (${c.section})` : ""}`);
  else {
    if (c.page !== null && c.page !== undefined) bits.push(`page ${c.page}`);
    if (c.section) bits.push(`section “${c.section}”`);
    if (!bits.length) bits.push(c.kind === "fact_sheet" ? "FVI fact sheet" : "whole document");
  }
  return bits.join(", ");
}

/** A dashboard link for an API path a citation names (`/v1/mines/M1` → the mine's profile), else null. */
export function dashboardLink(url: string | null | undefined): string | null {
  if (!url) return null;
  const mine = /^\/v1\/mines\/([^/?#]+)$/.exec(url);
  if (mine) return `/mine/?id=${mine[1]}`;
  const country = /^\/v1\/countries\/([^/?#]+)$/.exec(url);
  if (country) return `/country/?iso3=${country[1]}`;
  return null;
}

/** An external link only for http(s) addresses (local file paths of ingested documents are not links). */
export function externalLink(url: string | null | undefined): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

/** Notes of the answer that a reader must see as a warning, turned into plain words. */
export function noteWarnings(notes: string[]): { tone: "amber" | "red"; text: string }[] {
  const out: { tone: "amber" | "red"; text: string }[] = [];
  for (const n of notes) {
    if (/no documents ingested/i.test(n))
      out.push({ tone: "amber", text: "No documents are ingested yet, so the answer can only use the warehouse's facts. Run `fvi docs ingest` on the server to add the document corpus." });
    else if (/LLM endpoint answered HTTP (401|403)/.test(n))
      out.push({ tone: "red", text: `The language model refused the server's API key (${/HTTP \d+/.exec(n)?.[0]}). The answer below is the offline extractive one; set a valid FVI_LLM_API_KEY on the server.` });
    else if (/^LLM endpoint/.test(n)) out.push({ tone: "amber", text: `The language model could not answer (${n.replace(/^LLM endpoint /, "")}).` });
    else if (/warehouse unavailable/i.test(n)) out.push({ tone: "amber", text: "The warehouse is not available, so the answer uses documents only." });
  }
  return out;
}

/** `entity=mine:M1` or `entity=country:POL` in the URL scopes the chat to one entity. */
export function parseEntity(value: string | null): ChatEntity | null {
  const m = value ? /^(mine|country):([A-Za-z0-9_.-]{1,64})$/.exec(value) : null;
  return m ? { type: m[1] as ChatEntity["type"], id: m[2] as string } : null;
}
