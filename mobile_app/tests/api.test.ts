import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, NetworkError, type Fetch } from "../src/api";
import { pushNotification } from "../src/notifications";

interface Sent {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
}

function recording(answer: (sent: Sent) => Response): { fetch: Fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: Fetch = async (url, init) => {
    const request: Sent = {
      url,
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : null,
    };
    sent.push(request);
    return answer(request);
  };
  return { fetch, sent };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

describe("ApiClient", () => {
  it("sends the bearer token and no cookies", async () => {
    const { fetch, sent } = recording(() => json({ role: "field_agent" }));
    await new ApiClient(() => "tok-1", fetch).me();
    expect(sent[0]?.headers.get("authorization")).toBe("Bearer tok-1");
    expect(sent[0]?.url).toBe("/v1/me");
  });

  it("records an outcome with its Idempotency-Key and JSON body", async () => {
    const { fetch, sent } = recording(() => json({ lead_id: "lead 1" }));
    await new ApiClient(() => "t", fetch).recordOutcome(
      "lead 1",
      { outcome: "call_back", note: "later", call_back_at_unix: 1_900_000_000 },
      "key-9",
    );
    expect(sent[0]?.url).toBe("/v1/me/leads/lead%201/outcome");
    expect(sent[0]?.method).toBe("POST");
    expect(sent[0]?.headers.get("idempotency-key")).toBe("key-9");
    expect(JSON.parse(sent[0]?.body ?? "")).toEqual({ outcome: "call_back", note: "later", call_back_at_unix: 1_900_000_000 });
  });

  it("dates a list by the server's Date header: the time of the last sync", async () => {
    const date = "Tue, 03 Jun 2025 09:15:00 GMT";
    const { fetch } = recording(() => json({ leads: [], next_cursor: null }, 200, { date }));
    const leads = await new ApiClient(() => "t", fetch).leads();
    expect(leads.syncedAt?.toISOString()).toBe("2025-06-03T09:15:00.000Z");
  });

  it("turns Velox's error body into an ApiError with its status and words", async () => {
    const { fetch } = recording(() =>
      json({ detail: { status: "outside_calling_hours", message: "the lead's calling hours are closed now; they open at 09:00" } }, 409),
    );
    const error = await new ApiClient(() => "t", fetch).callLead("l1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ httpStatus: 409, code: "outside_calling_hours" });
    expect((error as ApiError).message).toContain("they open at 09:00");
  });

  it("says the network is unreachable when fetch itself fails", async () => {
    const fetch: Fetch = () => Promise.reject(new TypeError("Failed to fetch"));
    await expect(new ApiClient(() => "t", fetch).leads()).rejects.toBeInstanceOf(NetworkError);
  });
});

describe("push notifications", () => {
  it("show Velox's title and body and open the lead", () => {
    const shown = pushNotification(JSON.stringify({ title: "Call back Maria", body: "Due now", lead_id: "lead_1", callback_id: "cb_1" }));
    expect(shown.title).toBe("Call back Maria");
    expect(shown.options.body).toBe("Due now");
    expect(shown.options.data.url).toBe("/m/?lead=lead_1");
    expect(shown.options.tag).toBe("callback-cb_1");
  });

  it("show a payload that is not JSON as text", () => {
    const shown = pushNotification("hello");
    expect([shown.title, shown.options.body, shown.options.data.url]).toEqual(["Velox", "hello", "/m/"]);
  });
});
