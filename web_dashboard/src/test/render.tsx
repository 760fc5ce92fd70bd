import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";

/** Renders with a fresh query client that never retries (a test sees the first answer). */
export function renderWithClient(element: ReactElement): RenderResult & { client: QueryClient } {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const result = render(<QueryClientProvider client={client}>{element}</QueryClientProvider>);
  return { ...result, client };
}

export interface Recorded {
  method: string;
  url: string;
  headers: Headers;
  body: unknown;
}

/** A request's body: JSON parsed, anything else (a CSV upload) as its text. */
function parsedBody(text: string, contentType: string | null): unknown {
  return contentType?.includes("json") || !contentType ? (JSON.parse(text) as unknown) : text;
}

/**
 * Replaces `fetch` with the API's answers, by "METHOD /path" (query ignored); records every
 * request. An answer is a JSON body and status, or a function of the request.
 */
export function fakeApi(
  routes: Record<string, { status?: number; body?: unknown } | ((request: Recorded) => { status?: number; body?: unknown })>,
): Recorded[] {
  const recorded: Recorded[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
      const url = new URL(request.url, "http://localhost");
      const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.clone().text();
      const entry: Recorded = {
        method: request.method,
        url: url.pathname + url.search,
        headers: request.headers,
        body: text ? parsedBody(text, request.headers.get("content-type")) : undefined,
      };
      recorded.push(entry);
      const route = routes[`${request.method} ${url.pathname}`];
      if (!route) return new Response(JSON.stringify({ detail: "Not Found" }), { status: 404, headers: { "content-type": "application/json" } });
      const answer = typeof route === "function" ? route(entry) : route;
      const status = answer.status ?? 200;
      return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), {
        status,
        headers: { "content-type": "application/json" },
      });
    }),
  );
  return recorded;
}
