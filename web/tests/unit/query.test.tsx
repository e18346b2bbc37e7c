import { QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeQueryClient } from "@/components/Providers";
import { useAsync } from "@/lib/hooks";

afterEach(() => cleanup());

function Panel({ name, load }: { name: string; load: (s: AbortSignal) => Promise<string> }) {
  const r = useAsync(["same-read"], load);
  return <p data-testid={name}>{r.loading ? "loading" : r.error ? `error: ${r.error.message}` : r.data}</p>;
}

describe("useAsync (TanStack Query)", () => {
  it("two panels asking the same thing make one request; a later panel reads the cache", async () => {
    const load = vi.fn(async () => "answer");
    const client = makeQueryClient();
    const { rerender } = render(
      <QueryClientProvider client={client}>
        <Panel name="a" load={load} />
        <Panel name="b" load={load} />
      </QueryClientProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("b").textContent).toBe("answer"));
    expect(screen.getByTestId("a").textContent).toBe("answer");
    rerender(
      <QueryClientProvider client={client}>
        <Panel name="c" load={load} />
      </QueryClientProvider>,
    );
    expect(screen.getByTestId("c").textContent).toBe("answer");
    expect(load).toHaveBeenCalledTimes(1);
  });
  it("a failed read is shown at once (no silent retries) and reload reads again", async () => {
    const load = vi.fn<(s: AbortSignal) => Promise<string>>().mockRejectedValueOnce(new Error("boom")).mockResolvedValue("ok");
    function Retry() {
      const r = useAsync(["retry"], load);
      return (
        <button type="button" onClick={r.reload}>
          {r.loading ? "loading" : r.error ? `error: ${r.error.message}` : r.data}
        </button>
      );
    }
    render(
      <QueryClientProvider client={makeQueryClient()}>
        <Retry />
      </QueryClientProvider>,
    );
    const button = await screen.findByText("error: boom");
    expect(load).toHaveBeenCalledTimes(1);
    button.click();
    await screen.findByText("ok");
    expect(load).toHaveBeenCalledTimes(2);
  });
});
