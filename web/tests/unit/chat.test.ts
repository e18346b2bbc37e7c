import { describe, expect, it } from "vitest";
import { ChatError, SseParser, citationPlace, dashboardLink, externalLink, httpErrorMessage, noteWarnings, parseEntity, splitCitations, streamChat, type ChatEvent } from "@/lib/chat";

describe("SseParser", () => {
  it("returns whole messages only, across chunk boundaries and CRLF", () => {
    const p = new SseParser();
    expect(p.push('event: delta\r\ndata: {"text":')).toEqual([]);
    expect(p.push('"a"}\r\n\r\nevent: completed\ndata: {}\n')).toEqual([{ event: "delta", data: '{"text":"a"}' }]);
    expect(p.push("\n")).toEqual([{ event: "completed", data: "{}" }]);
  });
  it("joins multi-line data, skips comments, defaults the event name, flushes a last unterminated message", () => {
    const p = new SseParser();
    expect(p.push(": keep-alive\n\ndata: one\ndata: two\n\n")).toEqual([{ event: "message", data: "one\ntwo" }]);
    p.push("event: error\ndata: {}");
    expect(p.flush()).toEqual([{ event: "error", data: "{}" }]);
    expect(p.flush()).toEqual([]);
  });
});

describe("citations in a sentence", () => {
  it("takes the marks out and keeps their numbers once, in order", () => {
    expect(splitCitations("Methane is estimated from production [2][3].")).toEqual({ text: "Methane is estimated from production.", refs: [2, 3] });
    expect(splitCitations("It is 18 m³/t [4, 2] and more [4].")).toEqual({ text: "It is 18 m³/t and more.", refs: [4, 2] });
    expect(splitCitations("No mark.")).toEqual({ text: "No mark.", refs: [] });
  });
  it("says where a citation points", () => {
    expect(citationPlace({ kind: "pdf", page: 12, section: "Methods" })).toBe("page 12, section “Methods”");
    expect(citationPlace({ kind: "markdown", page: null, section: null })).toBe("whole document");
    expect(citationPlace({ kind: "warehouse", page: null, section: "gold.fvi_scores" })).toBe("warehouse fact (gold.fvi_scores)");
    expect(dashboardLink("/v1/mines/M1")).toBe("/mine/?id=M1");
    expect(dashboardLink("/v1/countries/POL")).toBe("/country/?iso3=POL");
    expect(dashboardLink("/tmp/corpus/a.md")).toBeNull();
    expect(externalLink("/tmp/corpus/a.md")).toBeNull();
    expect(externalLink("https://example.org/a.pdf")).toBe("https://example.org/a.pdf");
  });
  it("reads a scope from the URL only in the API's shape", () => {
    expect(parseEntity("mine:M1")).toEqual({ type: "mine", id: "M1" });
    expect(parseEntity("country:POL")).toEqual({ type: "country", id: "POL" });
    expect(parseEntity("us_mine:MSHA1")).toBeNull();
    expect(parseEntity("mine:<script>")).toBeNull();
    expect(parseEntity(null)).toBeNull();
  });
});

describe("messages", () => {
  it("turns HTTP errors into words", () => {
    expect(httpErrorMessage(401, "API key not recognised or revoked")).toContain("refused this request's API key (HTTP 401): API key not recognised");
    expect(httpErrorMessage(404, "mine 'M9' not found")).toBe("Not found (HTTP 404): mine 'M9' not found.");
    expect(httpErrorMessage(422, "question is empty")).toContain("not accepted (HTTP 422)");
    expect(httpErrorMessage(429, "rate limit exceeded", "7")).toContain("Try again in 7 s.");
    expect(httpErrorMessage(502, null)).toContain("failed on the server (HTTP 502)");
  });
  it("warns about the notes a reader must act on, and only those", () => {
    const w = noteWarnings([
      "Extractive answer (no language model): sentences quoted from the sources, each cited.",
      "no documents ingested yet: run `fvi docs ingest`",
      "LLM endpoint answered HTTP 401: offline extractive answer instead",
      "LLM endpoint timed out: offline extractive answer instead",
    ]);
    expect(w.map((x) => x.tone)).toEqual(["amber", "red", "amber"]);
    expect(w[0]!.text).toContain("No documents are ingested yet");
    expect(w[1]!.text).toContain("refused the server's API key (HTTP 401)");
    expect(w[2]!.text).toContain("timed out");
  });
});

function sseResponse(chunks: string[], init: ResponseInit = {}): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      for (const c of chunks) ctl.enqueue(enc.encode(c));
      ctl.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" }, ...init });
}

describe("streamChat", () => {
  it("posts the question with stream=true and hands over each event as it is parsed", async () => {
    let sent: unknown;
    const fake = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      sent = JSON.parse(String(init?.body));
      return sseResponse([
        'event: started\ndata: {"question":"q","entity":null,"session_id":"s1"}\n\nevent: retrieved\ndata: {"citations":[],"notes":[]}\n\nevent: del',
        'ta\ndata: {"text":"A [1]."}\n\nevent: completed\ndata: {"answer":"A [1].","citations":[],"session_id":"s1","backend":"extractive","dropped_sentences":[]}\n\n',
      ]);
    }) as typeof fetch;
    const seen: ChatEvent[] = [];
    await streamChat({ question: "q" }, (e) => seen.push(e), undefined, fake);
    expect(sent).toEqual({ question: "q", stream: true });
    expect(seen.map((e) => e.event)).toEqual(["started", "retrieved", "delta", "completed"]);
    expect((seen[2] as Extract<ChatEvent, { event: "delta" }>).data.text).toBe("A [1].");
  });
  it("rejects with the API's own words on an HTTP error", async () => {
    const fake = (async () => new Response(JSON.stringify({ detail: "question is empty" }), { status: 422, headers: { "Content-Type": "application/json" } })) as typeof fetch;
    await expect(streamChat({ question: " " }, () => {}, undefined, fake)).rejects.toMatchObject({ kind: "http", status: 422, message: expect.stringContaining("question is empty") });
  });
  it("rejects when the API cannot be reached, and when the stream stops before `completed`", async () => {
    const down = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;
    await expect(streamChat({ question: "q" }, () => {}, undefined, down)).rejects.toBeInstanceOf(ChatError);
    const cut = (async () => sseResponse(['event: delta\ndata: {"text":"A [1]."}\n\n'])) as typeof fetch;
    await expect(streamChat({ question: "q" }, () => {}, undefined, cut)).rejects.toMatchObject({ kind: "stream" });
  });
});
