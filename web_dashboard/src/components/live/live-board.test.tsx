import "@/test/navigation-mock";

import { act, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { LiveBoard } from "./live-board";

/** An EventSource the test drives: open it, send it moments, drop it. */
class FakeEventSource {
  static made: FakeEventSource[] = [];
  readonly url: string;
  readonly withCredentials: boolean;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  private listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

  constructor(url: string, init?: { withCredentials?: boolean }) {
    this.url = url;
    this.withCredentials = init?.withCredentials ?? false;
    FakeEventSource.made.push(this);
  }
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  open() {
    act(() => this.onopen?.());
  }
  send(moment: Record<string, unknown>) {
    const event = new MessageEvent("message", { data: JSON.stringify(moment) });
    act(() => (this.listeners.get(String(moment.type)) ?? []).forEach((listener) => listener(event)));
  }
  drop() {
    act(() => this.onerror?.());
  }
}

const LISTED = {
  conversation_id: "conv_1",
  agent_id: "agent_1",
  channel: "twilio",
  direction: "inbound",
  from_number: "+15552223333",
  to_number: "+15550001111",
  started_at_unix_secs: Math.floor(Date.now() / 1000) - 65,
  node_id: "node-a",
};
const AGENTS = { agents: [{ agent_id: "agent_1", name: "Front desk" }], has_more: false, next_cursor: null };

function latest(): FakeEventSource {
  const source = FakeEventSource.made.at(-1);
  if (!source) throw new Error("no EventSource made");
  return source;
}

beforeEach(() => {
  FakeEventSource.made = [];
  vi.stubGlobal("EventSource", FakeEventSource);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("the live page", () => {
  it("lists the calls in progress and streams their transcript in, with latencies", async () => {
    fakeApi({ "GET /v1/calls/live": { body: { calls: [LISTED] } }, "GET /v1/convai/agents": { body: AGENTS } });
    renderWithClient(<LiveBoard canEnd canReadAgents />);

    const card = await screen.findByRole("article", { name: "Call Front desk · +15552223333" });
    expect(card).toHaveTextContent("Phone (Twilio) · Inbound · +15552223333 → +15550001111");
    expect(within(card).getByText(/^1:0\d$/)).toBeInTheDocument();
    expect(latest().url).toBe("/v1/calls/live/events");
    expect(latest().withCredentials).toBe(true);
    latest().open();
    expect(screen.getByRole("status", { name: "Live updates: Live" })).toBeInTheDocument();

    latest().send({ conversation_id: "conv_1", type: "turn", role: "user", message: "Can I move my cleaning?", interrupted: false, source: "voice", at_ms: 4200, metrics: { stt_final_ms: 180 } });
    expect(within(card).getByText("Agent answering")).toBeInTheDocument();
    latest().send({ conversation_id: "conv_1", type: "turn", role: "agent", message: "Of course, to when?", interrupted: false, source: "voice", at_ms: 5300, metrics: { voice_to_voice_ms: 1090, llm_first_token_ms: 380, tts_first_byte_ms: 95 } });
    const log = within(card).getByRole("log");
    expect(log).toHaveTextContent("Caller: Can I move my cleaning?");
    expect(log).toHaveTextContent("Caller · 0:04 · STT final 180 ms");
    expect(log).toHaveTextContent("Agent: Of course, to when?");
    expect(log).toHaveTextContent("Agent · 0:05 · voice-to-voice 1.09 s · LLM first token 380 ms · TTS first byte 95 ms");
    expect(within(card).getByText("Listening")).toBeInTheDocument();
  });

  it("ends a call after asking, and shows it ended by a supervisor", async () => {
    const requests = fakeApi({
      "GET /v1/calls/live": { body: { calls: [LISTED] } },
      "GET /v1/convai/agents": { body: AGENTS },
      "POST /v1/calls/live/conv_1/end": { status: 202, body: { status: "ending", node_id: "node-a" } },
    });
    renderWithClient(<LiveBoard canEnd canReadAgents />);
    const card = await screen.findByRole("article", { name: /Front desk/ });

    fireEvent.click(within(card).getByRole("button", { name: "End call" }));
    const dialog = screen.getByRole("alertdialog", { name: "End this call?" });
    expect(dialog).toHaveTextContent("saved as ended by a supervisor");
    expect(requests.filter((request) => request.method === "POST")).toEqual([]);
    fireEvent.click(within(dialog).getByRole("button", { name: "End call" }));
    expect(await within(card).findByRole("button", { name: "Ending…" })).toBeDisabled();
    expect(requests.filter((request) => request.method === "POST").map((request) => request.url)).toEqual(["/v1/calls/live/conv_1/end"]);

    latest().send({ conversation_id: "conv_1", type: "call_ended", reason: "ended_by_supervisor" });
    expect(screen.queryByRole("article")).not.toBeInTheDocument();
    const ended = screen.getByRole("region", { name: "Ended while you watched" });
    expect(ended).toHaveTextContent("Front desk · +15552223333 · Ended by a supervisor");
    expect(within(ended).getByRole("link", { name: "Open the call" })).toHaveAttribute("href", expect.stringMatching(/\/calls\/view\/?\?id=conv_1$/));
  });

  it("offers no End call to a role that may not end calls", async () => {
    fakeApi({ "GET /v1/calls/live": { body: { calls: [LISTED] } } });
    renderWithClient(<LiveBoard canEnd={false} canReadAgents={false} />);
    const card = await screen.findByRole("article", { name: "Call agent_1 · +15552223333" });
    expect(within(card).queryByRole("button", { name: "End call" })).not.toBeInTheDocument();
  });

  it("reconnects when the stream drops, backing off, and lists the calls again", async () => {
    const requests = fakeApi({ "GET /v1/calls/live": { body: { calls: [] } }, "GET /v1/convai/agents": { body: AGENTS } });
    renderWithClient(<LiveBoard canEnd canReadAgents />);
    expect(await screen.findByRole("heading", { name: "No calls in progress" })).toBeInTheDocument();
    vi.useFakeTimers({ shouldAdvanceTime: true });
    latest().open();
    latest().drop();
    expect(latest().closed).toBe(true);
    expect(screen.getByRole("status", { name: /^Live updates: Stream lost; reconnecting/ })).toBeInTheDocument();
    expect(FakeEventSource.made).toHaveLength(1);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(FakeEventSource.made).toHaveLength(2);
    latest().drop();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(FakeEventSource.made).toHaveLength(2); // the second wait is 2 s
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(FakeEventSource.made).toHaveLength(3);
    const listsBefore = requests.filter((request) => request.url === "/v1/calls/live").length;
    latest().open();
    expect(screen.getByRole("status", { name: "Live updates: Live" })).toBeInTheDocument();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10);
    });
    expect(requests.filter((request) => request.url === "/v1/calls/live").length).toBeGreaterThan(listsBefore);

    latest().send({ conversation_id: "conv_9", type: "call_started", agent_id: "agent_1", channel: "websocket", from_number: "", to_number: "", node_id: "n" });
    expect(screen.getByRole("article", { name: "Call Front desk · unknown caller" })).toHaveTextContent("Connecting");
  });
});
