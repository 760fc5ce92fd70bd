import { describe, expect, it } from "vitest";

import { elapsed, EMPTY, reconnectDelayMs, turnLatencies, withList, withMoment, type ListedCall, type LiveState } from "./live-calls";

const LISTED: ListedCall = {
  conversation_id: "conv_1",
  agent_id: "agent_1",
  channel: "twilio",
  direction: "inbound",
  from_number: "+15552223333",
  to_number: "+15550001111",
  started_at_unix_secs: 1_000,
  node_id: "node-a",
};

function apply(state: LiveState, ...moments: Record<string, unknown>[]): LiveState {
  return moments.reduce<LiveState>((current, moment) => withMoment(current, moment, 2_000_000), state);
}

describe("calls in progress, from the list and the stream", () => {
  it("follows a call's transcript and state turn by turn", () => {
    const state = apply(
      withList(EMPTY, [LISTED], 0, 1_000_000),
      { conversation_id: "conv_1", type: "turn", role: "agent", message: "Hello, Acme.", interrupted: false, source: "voice", at_ms: 0, metrics: { tts_first_byte_ms: 95 } },
      { conversation_id: "conv_1", type: "turn", role: "user", message: "I need a refund", interrupted: false, source: "voice", at_ms: 2100, metrics: { stt_final_ms: 180, stt_provider: "whisper" } },
    );
    const [call] = state.calls;
    expect(call?.turns.map((turn) => [turn.role, turn.message])).toEqual([
      ["agent", "Hello, Acme."],
      ["user", "I need a refund"],
    ]);
    expect(call?.state).toBe("answering");
    expect(call?.turns[1]?.metrics).toEqual({ stt_final_ms: 180, stt_provider: "whisper" });

    const cut = apply(state, { conversation_id: "conv_1", type: "turn", role: "agent", message: "Let me", interrupted: true, source: "voice", at_ms: 3000, metrics: { voice_to_voice_ms: 1090, llm_first_token_ms: 380 } });
    expect(cut.calls[0]?.state).toBe("interrupted");
    expect(turnLatencies(cut.calls[0]!.turns[2]!)).toEqual([
      { label: "voice-to-voice", ms: 1090 },
      { label: "LLM first token", ms: 380 },
    ]);
  });

  it("takes back a caller's turn the engine withdrew, and notes the latest event", () => {
    const state = apply(
      withList(EMPTY, [LISTED], 0),
      { conversation_id: "conv_1", type: "turn", role: "user", message: "um", at_ms: 10, metrics: {} },
      { conversation_id: "conv_1", type: "user_turn_withdrawn" },
      { conversation_id: "conv_1", type: "event", kind: "barge_in", at_ms: 20, data: {} },
    );
    expect(state.calls[0]?.turns).toEqual([]);
    expect(state.calls[0]?.state).toBe("listening");
    expect(state.calls[0]?.lastEvent).toBe("barge_in");
  });

  it("adds a call the stream announces, and moves an ended call to the ended list once", () => {
    const started = apply(EMPTY, { conversation_id: "conv_2", type: "call_started", agent_id: "agent_2", channel: "websocket", from_number: "", to_number: "", node_id: "n" });
    expect(started.calls.map((call) => [call.id, call.agentId, call.channel, call.state])).toEqual([["conv_2", "agent_2", "websocket", "connecting"]]);

    const ended = apply(started, { conversation_id: "conv_2", type: "call_ended", reason: "ended_by_supervisor" }, { conversation_id: "conv_2", type: "call_ended", reason: "ended_by_supervisor" });
    expect(ended.calls).toEqual([]);
    expect(ended.ended.map((call) => [call.id, call.agentId, call.reason])).toEqual([["conv_2", "agent_2", "ended_by_supervisor"]]);
    // A late moment of an ended call does not bring it back; nor does a list that predates the end.
    expect(apply(ended, { conversation_id: "conv_2", type: "turn", role: "agent", message: "bye" }).calls).toEqual([]);
    expect(withList(ended, [{ ...LISTED, conversation_id: "conv_2" }], 0).calls).toEqual([]);
  });

  it("keeps what the stream said when the list comes again, drops what the list no longer has", () => {
    const heard = apply(withList(EMPTY, [LISTED], 0, 1_000), { conversation_id: "conv_1", type: "turn", role: "agent", message: "Hi", at_ms: 0, metrics: {} });
    const relisted = withList(heard, [LISTED], 5_000);
    expect(relisted.calls[0]?.turns.map((turn) => turn.message)).toEqual(["Hi"]);
    // Over while the stream was down: the list no longer has it.
    expect(withList(relisted, [], 6_000).calls).toEqual([]);
    // Announced after the list was asked for: kept until the next list.
    const fresh = apply(EMPTY, { conversation_id: "conv_3", type: "call_started", agent_id: "a" });
    expect(withList(fresh, [], 1_999_000).calls.map((call) => call.id)).toEqual(["conv_3"]);
    expect(withList(fresh, [], 2_000_001).calls).toEqual([]);
  });

  it("ignores moments it cannot place", () => {
    expect(apply(EMPTY, { type: "turn" }, { conversation_id: "x" }, { conversation_id: "x", type: "mystery" })).toEqual(EMPTY);
  });

  it("shows running time and backs off reconnecting up to 30 s", () => {
    expect([elapsed(1_000, 1_007_000), elapsed(1_000, 1_000_000 + 760_000), elapsed(0, 3_723_000), elapsed(null, 0)]).toEqual(["0:07", "12:40", "1:02:03", "—"]);
    expect([1, 2, 3, 4, 6, 10].map(reconnectDelayMs)).toEqual([1000, 2000, 4000, 8000, 30000, 30000]);
  });
});
