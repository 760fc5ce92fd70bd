import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, type Fetch } from "../src/api";
import { OutcomeQueue } from "../src/outbox";
import { openFieldDatabase, type FieldDatabase } from "../src/store";

/** A server that stores each Idempotency-Key's write once, as Velox does; it can be made
 * unreachable, or to lose its answers after storing. */
class OutcomeServer {
  stored = new Map<string, { leadId: string; body: unknown }>();
  requests: { key: string | null; leadId: string }[] = [];
  reachable = true;
  loseAnswers = false;
  refuse: { status: number; code: string; message: string } | null = null;

  fetch: Fetch = async (input, init) => {
    if (!this.reachable) throw new TypeError("Failed to fetch");
    const headers = new Headers(init?.headers);
    const leadId = /\/v1\/me\/leads\/([^/]+)\/outcome$/.exec(input)?.[1] ?? "";
    const key = headers.get("idempotency-key");
    this.requests.push({ key, leadId });
    if (this.refuse) {
      const { status, code, message } = this.refuse;
      return new Response(JSON.stringify({ detail: { status: code, message } }), { status });
    }
    if (key && !this.stored.has(key)) this.stored.set(key, { leadId, body: JSON.parse(String(init?.body)) });
    if (this.loseAnswers) throw new TypeError("connection reset");
    return new Response(JSON.stringify({ lead_id: leadId }), { status: 200 });
  };
}

let db: FieldDatabase;
let server: OutcomeServer;
let queue: OutcomeQueue;
let n = 0;

beforeEach(async () => {
  n += 1;
  db = await openFieldDatabase(`outbox-test-${n}`);
  server = new OutcomeServer();
  let key = 0;
  queue = new OutcomeQueue(db, new ApiClient(() => "token", server.fetch), () => `key-${(key += 1)}`);
});

afterEach(() => db.close());

const interested = { outcome: "interested" as const, note: "Wants a visit", call_back_at_unix: null };

describe("OutcomeQueue", () => {
  it("sends an outcome at once when the server is reachable, with its Idempotency-Key", async () => {
    await queue.enqueue("lead-1", "Maria", interested);
    expect(await queue.flush()).toEqual({ sent: 1, waiting: 0, rejected: 0 });
    expect(server.requests).toEqual([{ key: "key-1", leadId: "lead-1" }]);
    expect(await queue.items()).toEqual([]);
  });

  it("keeps outcomes recorded offline, in order, and sends them when the network is back", async () => {
    server.reachable = false;
    await queue.enqueue("lead-1", "Maria", interested);
    await queue.enqueue("lead-2", "John", { outcome: "not_interested", note: "", call_back_at_unix: null });
    expect(await queue.flush()).toEqual({ sent: 0, waiting: 2, rejected: 0 });
    const waiting = await queue.items();
    expect(waiting.map((item) => [item.leadId, item.state, item.lastError])).toEqual([
      ["lead-1", "waiting", "No connection"],
      ["lead-2", "waiting", null], // not tried: the network was already known to be down
    ]);

    server.reachable = true;
    expect(await queue.flush()).toEqual({ sent: 2, waiting: 0, rejected: 0 });
    expect(server.requests.map((r) => r.leadId)).toEqual(["lead-1", "lead-2"]);
    expect(server.stored.size).toBe(2);
  });

  it("survives the app restarting: the queue lives in IndexedDB", async () => {
    server.reachable = false;
    await queue.enqueue("lead-1", "Maria", interested);
    await queue.flush();
    const reopened = new OutcomeQueue(db, new ApiClient(() => "token", server.fetch));
    server.reachable = true;
    expect(await reopened.flush()).toEqual({ sent: 1, waiting: 0, rejected: 0 });
    expect(server.requests.at(-1)?.key).toBe("key-1");
  });

  it("sends a write whose answer was lost again with the same key, so it is stored once", async () => {
    server.loseAnswers = true;
    await queue.enqueue("lead-1", "Maria", interested);
    expect(await queue.flush()).toEqual({ sent: 0, waiting: 1, rejected: 0 });
    server.loseAnswers = false;
    expect(await queue.flush()).toEqual({ sent: 1, waiting: 0, rejected: 0 });
    expect(server.requests.map((r) => r.key)).toEqual(["key-1", "key-1"]);
    expect(server.stored.size).toBe(1);
  });

  it("runs one flush at a time: the online event and the app start do not send twice", async () => {
    await queue.enqueue("lead-1", "Maria", interested);
    const [a, b] = await Promise.all([queue.flush(), queue.flush()]);
    expect(a).toEqual(b);
    expect(server.requests).toHaveLength(1);
  });

  it("keeps a write the server refuses for good, with why, until it is discarded", async () => {
    server.refuse = { status: 422, code: "invalid_outcome", message: "call_back_at_unix is in the past" };
    await queue.enqueue("lead-1", "Maria", { outcome: "call_back", note: "", call_back_at_unix: 1000 });
    expect(await queue.flush()).toEqual({ sent: 0, waiting: 0, rejected: 1 });
    const [item] = await queue.items();
    expect([item?.state, item?.lastError]).toEqual(["rejected", "call_back_at_unix is in the past"]);
    server.refuse = null;
    expect(await queue.flush()).toEqual({ sent: 0, waiting: 0, rejected: 1 }); // not sent again
    await queue.discard(item!.key);
    expect(await queue.items()).toEqual([]);
  });

  it("tries again later while a call to the lead is on (409 lead_busy)", async () => {
    server.refuse = { status: 409, code: "lead_busy", message: "a call to the lead is on" };
    await queue.enqueue("lead-1", "Maria", interested);
    expect(await queue.flush()).toEqual({ sent: 0, waiting: 1, rejected: 0 });
    server.refuse = null;
    expect(await queue.flush()).toEqual({ sent: 1, waiting: 0, rejected: 0 });
  });
});
