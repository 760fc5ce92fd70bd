/**
 * Calls in progress as the Live page holds them: the list (`GET /v1/calls/live`, from the
 * database) merged with the moments the server streams (`GET /v1/calls/live/events`:
 * `call_started`, `turn`, `event`, `user_turn_withdrawn`, `call_ended`; app/calls/lifecycle.py
 * and app/engine/transcript.py publish them). Pure: each function returns a new state.
 */
import type { Schemas } from "@/api/client";

export type ListedCall = Schemas["LiveCall"];

export type Metrics = Record<string, number | string | null>;

export interface LiveTurn {
  role: "user" | "agent";
  message: string;
  interrupted: boolean;
  source: string;
  /** Milliseconds into the call. */
  atMs: number;
  metrics: Metrics;
}

/** What the call is doing, from its latest moment. */
export type CallState = "connecting" | "listening" | "answering" | "interrupted" | "ending";

export interface LiveCallView {
  id: string;
  agentId: string;
  channel: string;
  direction: string;
  from: string;
  to: string;
  /** Unix seconds; null when not known yet. */
  startedAt: number | null;
  turns: LiveTurn[];
  /** The latest event the engine logged (`barge_in`, `tool_call`…). */
  lastEvent: string | null;
  state: CallState;
  /** When this page first heard of the call (ms since epoch). */
  seenAt: number;
}

export interface EndedCall {
  id: string;
  agentId: string;
  from: string;
  to: string;
  reason: string;
  endedAt: number;
}

export interface LiveState {
  calls: LiveCallView[];
  /** Calls seen ending while the page was open, the latest first. */
  ended: EndedCall[];
}

export const EMPTY: LiveState = { calls: [], ended: [] };
/** Ended calls kept on the page. */
export const ENDED_KEPT = 10;

type Moment = Record<string, unknown>;

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function metricsOf(value: unknown): Metrics {
  if (typeof value !== "object" || value === null) return {};
  const metrics: Metrics = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === "number" || typeof item === "string" || item === null) metrics[key] = item;
  }
  return metrics;
}

function byStart(calls: LiveCallView[]): LiveCallView[] {
  return calls.slice().sort((a, b) => (a.startedAt ?? Infinity) - (b.startedAt ?? Infinity) || a.seenAt - b.seenAt);
}

function fromListed(call: ListedCall, now: number): LiveCallView {
  return {
    id: call.conversation_id,
    agentId: call.agent_id,
    channel: call.channel,
    direction: call.direction,
    from: call.from_number,
    to: call.to_number,
    startedAt: call.started_at_unix_secs,
    turns: [],
    lastEvent: null,
    state: "listening",
    seenAt: now,
  };
}

/**
 * The list as the database has it, asked for at `askedAt`: the listed calls (with what the
 * stream told of them kept), and the calls the stream announced after `askedAt` (the list may
 * predate them). Calls the list lacks and the stream announced before it are over.
 */
export function withList(state: LiveState, listed: readonly ListedCall[], askedAt: number, now: number = Date.now()): LiveState {
  const known = new Map(state.calls.map((call) => [call.id, call]));
  const ended = new Set(state.ended.map((call) => call.id));
  const calls: LiveCallView[] = [];
  for (const item of listed) {
    if (ended.has(item.conversation_id)) continue;
    const seen = known.get(item.conversation_id);
    calls.push(
      seen
        ? { ...seen, direction: item.direction, startedAt: item.started_at_unix_secs ?? seen.startedAt, from: item.from_number || seen.from, to: item.to_number || seen.to }
        : fromListed(item, now),
    );
  }
  const listedIds = new Set(listed.map((item) => item.conversation_id));
  for (const call of state.calls) if (!listedIds.has(call.id) && call.seenAt > askedAt) calls.push(call);
  return { ...state, calls: byStart(calls) };
}

function stateAfter(turn: LiveTurn): CallState {
  if (turn.role === "user") return "answering";
  return turn.interrupted ? "interrupted" : "listening";
}

/** The state after one moment from the stream; moments of unknown calls start them. */
export function withMoment(state: LiveState, moment: Moment, now: number = Date.now()): LiveState {
  const id = text(moment.conversation_id);
  const type = text(moment.type);
  if (!id || !type) return state;
  const index = state.calls.findIndex((call) => call.id === id);
  const current = index === -1 ? undefined : state.calls[index];

  if (type === "call_ended") {
    if (state.ended.some((call) => call.id === id)) return state;
    const ended: EndedCall = { id, agentId: current?.agentId ?? "", from: current?.from ?? "", to: current?.to ?? "", reason: text(moment.reason), endedAt: now };
    return { calls: state.calls.filter((call) => call.id !== id), ended: [ended, ...state.ended].slice(0, ENDED_KEPT) };
  }
  if (state.ended.some((call) => call.id === id)) return state;

  const call: LiveCallView = current ?? {
    id,
    agentId: text(moment.agent_id),
    channel: text(moment.channel),
    direction: "",
    from: text(moment.from_number),
    to: text(moment.to_number),
    startedAt: Math.floor(now / 1000),
    turns: [],
    lastEvent: null,
    state: "connecting",
    seenAt: now,
  };
  let next: LiveCallView = call;
  if (type === "call_started") {
    next = { ...call, agentId: text(moment.agent_id) || call.agentId, channel: text(moment.channel) || call.channel, from: text(moment.from_number) || call.from, to: text(moment.to_number) || call.to };
  } else if (type === "turn") {
    const role = moment.role === "user" ? "user" : "agent";
    const turn: LiveTurn = {
      role,
      message: text(moment.message),
      interrupted: moment.interrupted === true,
      source: text(moment.source),
      atMs: typeof moment.at_ms === "number" ? moment.at_ms : 0,
      metrics: metricsOf(moment.metrics),
    };
    next = { ...call, turns: [...call.turns, turn], state: stateAfter(turn) };
  } else if (type === "user_turn_withdrawn") {
    const at = call.turns.map((turn) => turn.role).lastIndexOf("user");
    next = { ...call, turns: at === -1 ? call.turns : call.turns.filter((_, n) => n !== at), state: "listening" };
  } else if (type === "event") {
    const kind = text(moment.kind);
    next = { ...call, lastEvent: kind || call.lastEvent, state: kind === "ending" ? "ending" : call.state };
  } else {
    return state;
  }
  const calls = current ? state.calls.map((item) => (item.id === id ? next : item)) : byStart([...state.calls, next]);
  return { ...state, calls };
}

export const STATE_LABELS: Record<CallState, string> = {
  connecting: "Connecting",
  listening: "Listening",
  answering: "Agent answering",
  interrupted: "Caller cut in",
  ending: "Ending",
};

/** A turn's latencies as a line under it: the agent's answer chain, the caller's recognition. */
export function turnLatencies(turn: LiveTurn): { label: string; ms: number }[] {
  const keys: [string, string][] =
    turn.role === "agent"
      ? [
          ["voice_to_voice_ms", "voice-to-voice"],
          ["llm_first_token_ms", "LLM first token"],
          ["tts_first_byte_ms", "TTS first byte"],
        ]
      : [
          ["end_of_speech_to_endpoint_ms", "end of turn"],
          ["stt_final_ms", "STT final"],
        ];
  const out: { label: string; ms: number }[] = [];
  for (const [key, label] of keys) {
    const value = turn.metrics[key];
    if (typeof value === "number") out.push({ label, ms: value });
  }
  return out;
}

/** Seconds as the call's running time: 0:07, 12:40, 1:02:03. */
export function elapsed(startedAt: number | null, now: number): string {
  if (startedAt === null) return "—";
  const total = Math.max(0, Math.floor(now / 1000 - startedAt));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** How long to wait before reconnecting after `failures` drops in a row: 1 s, 2 s, 4 s… 30 s. */
export function reconnectDelayMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
}
