import { location } from "@/test/navigation-mock";

import { render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { Providers } from "@/components/providers";

import AgentsPage from "./agents/page";
import CallsPage from "./calls/page";
import CallPage from "./calls/view/page";

afterEach(() => {
  vi.unstubAllGlobals();
  location.search = new URLSearchParams();
});

const ME = { role: "support", permissions: ["me", "calls:read", "agents:read"], email: "lead@example.com", organization_id: "org_1" };
const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });

/** The API with `/v1/me` held until `answerMe()`; every path asked for, in order. */
function slowMe(answers: Record<string, unknown>) {
  const asked: string[] = [];
  let answerMe: () => void = () => undefined;
  const me = new Promise<Response>((resolve) => {
    answerMe = () => resolve(json(ME));
  });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
      const url = new URL(request.url, "http://localhost");
      asked.push(url.pathname + url.search);
      if (url.pathname === "/v1/me") return me;
      return json(answers[url.pathname] ?? {});
    }),
  );
  return { asked, answerMe: () => answerMe() };
}

describe("a page's own reads start beside /v1/me, not after it", () => {
  it("the calls page asks for the URL's calls and the agents' names while /v1/me is unanswered, and then asks for neither again", async () => {
    location.search = new URLSearchParams("outcome=resolved");
    const api = slowMe({
      "/v1/convai/conversations": { conversations: [], has_more: false, next_cursor: null },
      "/v1/convai/agents": { agents: [], has_more: false, next_cursor: null },
    });
    // The app's own query client: what the route started is fresh when the list mounts.
    render(
      <Providers>
        <CallsPage />
      </Providers>,
    );

    await waitFor(() => expect(api.asked.some((path) => path.startsWith("/v1/convai/conversations?"))).toBe(true));
    expect(api.asked.find((path) => path.startsWith("/v1/convai/conversations?"))).toContain("outcome=resolved");
    expect(api.asked.some((path) => path.startsWith("/v1/convai/agents?"))).toBe(true);

    api.answerMe();
    expect(await screen.findByRole("heading", { name: "Calls" })).toBeInTheDocument();
    expect(api.asked.filter((path) => path.startsWith("/v1/convai/conversations?"))).toHaveLength(1);
  });

  it("the call page asks for the call and its webhook deliveries while /v1/me is unanswered", async () => {
    location.search = new URLSearchParams("id=conv_1");
    const api = slowMe({});
    render(
      <Providers>
        <CallPage />
      </Providers>,
    );

    await waitFor(() => expect(api.asked).toContain("/v1/convai/conversations/conv_1"));
    expect(api.asked).toContain("/v1/convai/conversations/conv_1/webhook-deliveries");
    expect(api.asked).toContain("/v1/me");
  });

  it("the agents page asks for the URL's search while /v1/me is unanswered", async () => {
    location.search = new URLSearchParams("search=billing");
    const api = slowMe({ "/v1/convai/agents": { agents: [], has_more: false, next_cursor: null } });
    render(
      <Providers>
        <AgentsPage />
      </Providers>,
    );

    await waitFor(() => expect(api.asked.some((path) => path.startsWith("/v1/convai/agents?") && path.includes("search=billing"))).toBe(true));
  });
});
