/**
 * The agent editor's Test panel, as data: the lines said so far, each exchange's latency (from
 * Velox's `velox_turn_metrics` socket event), and what went wrong said in words.
 */

export type Speaker = "user" | "agent";

/** One exchange's figures in milliseconds, null when the turn had no such stage. */
export interface TurnLatency {
  voiceToVoiceMs: number | null;
  endOfSpeechToEndpointMs: number | null;
  sttFinalMs: number | null;
  llmFirstTokenMs: number | null;
  ttsFirstByteMs: number | null;
  interrupted: boolean;
}

export interface TestLine {
  speaker: Speaker;
  text: string;
  /** On a caller's line: how fast its answer came (told once the answer was logged). */
  latency: TurnLatency | null;
}

export type Phase = "idle" | "connecting" | "connected" | "ended";
export type Mode = "voice" | "text";

export interface TestState {
  phase: Phase;
  mode: Mode;
  conversationId: string | null;
  lines: TestLine[];
  agentSpeaking: boolean;
  error: string | null;
  /** Why the conversation ended, when not because the tester ended it. */
  endedBecause: string | null;
}

export const IDLE: TestState = {
  phase: "idle",
  mode: "voice",
  conversationId: null,
  lines: [],
  agentSpeaking: false,
  error: null,
  endedBecause: null,
};

export type TestEvent =
  | { kind: "connecting"; mode: Mode }
  | { kind: "connected"; conversationId: string }
  | { kind: "line"; speaker: Speaker; text: string }
  | { kind: "latency"; latency: TurnLatency }
  | { kind: "speaking"; speaking: boolean }
  | { kind: "ended"; because: string | null }
  | { kind: "failed"; message: string };

export function testReducer(state: TestState, event: TestEvent): TestState {
  switch (event.kind) {
    case "connecting":
      return { ...IDLE, phase: "connecting", mode: event.mode };
    case "connected":
      return { ...state, phase: "connected", conversationId: event.conversationId };
    case "line":
      if (!event.text.trim()) return state;
      return { ...state, lines: [...state.lines, { speaker: event.speaker, text: event.text, latency: null }] };
    case "latency": {
      // The exchange it measures: the latest caller line without a figure yet.
      let index = state.lines.length - 1;
      while (index >= 0 && !(state.lines[index]?.speaker === "user" && state.lines[index]?.latency === null)) index -= 1;
      if (index < 0) return state;
      const lines = state.lines.map((line, at) => (at === index ? { ...line, latency: event.latency } : line));
      return { ...state, lines };
    }
    case "speaking":
      return { ...state, agentSpeaking: event.speaking };
    case "ended":
      return { ...state, phase: "ended", agentSpeaking: false, endedBecause: event.because ?? state.endedBecause };
    case "failed":
      return { ...state, phase: state.conversationId ? "ended" : "idle", agentSpeaking: false, error: event.message };
  }
}

function figure(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The figures of a socket event when it is Velox's `velox_turn_metrics`, else null. */
export function turnLatencyOf(event: unknown): TurnLatency | null {
  if (typeof event !== "object" || event === null) return null;
  const { type, velox_turn_metrics_event: body } = event as { type?: unknown; velox_turn_metrics_event?: unknown };
  if (type !== "velox_turn_metrics" || typeof body !== "object" || body === null) return null;
  const figures = body as Record<string, unknown>;
  return {
    voiceToVoiceMs: figure(figures.voice_to_voice_ms),
    endOfSpeechToEndpointMs: figure(figures.end_of_speech_to_endpoint_ms),
    sttFinalMs: figure(figures.stt_final_ms),
    llmFirstTokenMs: figure(figures.llm_first_token_ms),
    ttsFirstByteMs: figure(figures.tts_first_byte_ms),
    interrupted: figures.interrupted === true,
  };
}

/** Why a conversation could not start, in words that say what to do. */
export function startFailure(error: unknown, serverSaid: string | null): string {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "The microphone is blocked for this site. Allow it (the icon in the address bar), then start again, or use text chat.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") return "No microphone was found. Connect one and start again, or use text chat.";
  if (name === "NotReadableError") return "The microphone is in use by another program. Close it and start again, or use text chat.";
  if (serverSaid) return `The server refused the conversation: ${serverSaid}`;
  if (typeof error === "object" && error !== null && "closeCode" in error) {
    const { closeCode, closeReason } = error as { closeCode?: number; closeReason?: string };
    // A WebSocket close reason is cut at 123 bytes: mark a cut one as such.
    if (closeReason) return `The server refused the conversation: ${closeReason}${closeReason.length >= 110 ? "…" : ""}`;
    return `The server refused the conversation (the connection closed, code ${closeCode ?? "unknown"}). Check that the agent is saved and its providers are set, then start again.`;
  }
  return error instanceof Error && error.message ? error.message : "The conversation could not start.";
}

/** How a conversation's end reads, from the client's disconnect details. */
export function endReason(details: { reason: string; message?: string; closeReason?: string }): string | null {
  if (details.reason === "user") return null;
  if (details.reason === "agent") return "The agent ended the conversation.";
  const said = details.message ?? details.closeReason;
  return said ? `The conversation ended on an error: ${said}` : "The connection to the server was lost.";
}

export function formatLatency(ms: number | null): string {
  if (ms === null) return "—";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
