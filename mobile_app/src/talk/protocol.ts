/**
 * The ElevenLabs Agents conversation socket, client side, sans-I/O: what the server's messages
 * mean to the app, and the messages the app sends. No socket here, so it is tested with strings.
 *
 * Velox adds one field the official clients ignore: `velox_resume` in the initiation metadata
 * (a resume token and the window, in seconds, during which a dropped connection can be taken
 * back with `conversation_id` + `resume_token` in a new socket's query).
 */

export type Scalar = string | number | boolean;

export interface Resume {
  token: string;
  windowS: number;
}

export interface AudioFormat {
  encoding: "pcm16" | "mulaw";
  rateHz: number;
}

export type ServerEvent =
  | {
      kind: "metadata";
      conversationId: string;
      output: AudioFormat;
      input: AudioFormat;
      resume: Resume | null;
    }
  | { kind: "audio"; eventId: number; bytes: Uint8Array }
  | { kind: "agent_response"; text: string }
  | { kind: "agent_correction"; text: string }
  | { kind: "user_transcript"; text: string }
  | { kind: "interruption"; eventId: number }
  | { kind: "ping"; eventId: number }
  | { kind: "error"; message: string }
  | { kind: "ignored"; type: string };

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

const FORMAT_NAME = /^(pcm|ulaw)_(\d{4,5})$/;

/** An ElevenLabs audio format name (`pcm_16000`, `ulaw_8000`) as an encoding and a rate. */
export function audioFormat(name: unknown): AudioFormat {
  const match = typeof name === "string" ? FORMAT_NAME.exec(name) : null;
  if (!match?.[1] || !match[2]) throw new ProtocolError(`unknown audio format ${String(name)}`);
  return { encoding: match[1] === "pcm" ? "pcm16" : "mulaw", rateHz: Number(match[2]) };
}

function object(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function int(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.trunc(value) : 0;
}

function base64Bytes(data: string): Uint8Array {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** One server message as the app's event; `ProtocolError` for what is not JSON at all. */
export function parseServerMessage(raw: string): ServerEvent {
  let message: Record<string, unknown>;
  try {
    message = object(JSON.parse(raw));
  } catch {
    throw new ProtocolError("a message from the server was not JSON");
  }
  const type = text(message.type);
  switch (type) {
    case "conversation_initiation_metadata": {
      const event = object(message.conversation_initiation_metadata_event);
      const resume = object(event.velox_resume);
      const token = text(resume.resume_token);
      return {
        kind: "metadata",
        conversationId: text(event.conversation_id),
        output: audioFormat(event.agent_output_audio_format ?? "pcm_16000"),
        input: audioFormat(event.user_input_audio_format ?? "pcm_16000"),
        resume: token ? { token, windowS: Number(resume.window_secs) || 0 } : null,
      };
    }
    case "audio": {
      const event = object(message.audio_event);
      return { kind: "audio", eventId: int(event.event_id), bytes: base64Bytes(text(event.audio_base_64)) };
    }
    case "agent_response":
      return { kind: "agent_response", text: text(object(message.agent_response_event).agent_response) };
    case "agent_response_correction":
      return {
        kind: "agent_correction",
        text: text(object(message.agent_response_correction_event).corrected_agent_response),
      };
    case "user_transcript":
      return { kind: "user_transcript", text: text(object(message.user_transcription_event).user_transcript) };
    case "interruption":
      return { kind: "interruption", eventId: int(object(message.interruption_event).event_id) };
    case "ping":
      return { kind: "ping", eventId: int(object(message.ping_event).event_id) };
    case "error":
      return { kind: "error", message: text(object(message.error_event).message) || "the server reported an error" };
    default:
      return { kind: "ignored", type };
  }
}

function bytesBase64(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

export function initiationMessage(variables: Record<string, Scalar>): string {
  return JSON.stringify({ type: "conversation_initiation_client_data", dynamic_variables: variables });
}

export function audioChunkMessage(pcm16: Uint8Array): string {
  return JSON.stringify({ user_audio_chunk: bytesBase64(pcm16) });
}

export function pongMessage(eventId: number): string {
  return JSON.stringify({ type: "pong", event_id: eventId });
}

export function textMessage(said: string): string {
  return JSON.stringify({ type: "user_message", text: said });
}

/**
 * Agent audio the app should still play: after an `interruption` with event id N, audio of
 * events up to N was cut (the server may have sent some of it before it knew).
 */
export class InterruptionFilter {
  private cutThrough = -1;

  interrupted(eventId: number): void {
    this.cutThrough = Math.max(this.cutThrough, eventId);
  }

  plays(eventId: number): boolean {
    return eventId > this.cutThrough;
  }
}

/** A lead's details as dynamic variables: scalars kept, the rest as text, names made safe. */
export function leadVariables(lead: {
  phone_number: string;
  campaign_name: string;
  time_zone: string | null;
  variables: Record<string, unknown>;
}): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [name, value] of Object.entries(lead.variables)) {
    const key = name.trim().replace(/[^A-Za-z0-9_]/g, "_");
    if (!key || value === null || value === undefined) continue;
    out[key] = typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? value : JSON.stringify(value);
  }
  out.lead_phone_number = lead.phone_number;
  out.campaign_name = lead.campaign_name;
  if (lead.time_zone) out.lead_time_zone = lead.time_zone;
  return out;
}
