import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { decodeAgentAudio, Resampler } from "../src/talk/audio-codec";
import { socketUrlOnThisServer } from "../src/talk/call";
import { ConversationLink, mayResume, retryDelayMs, type LinkStatus, type SocketLike } from "../src/talk/link";
import {
  audioChunkMessage,
  InterruptionFilter,
  leadVariables,
  parseServerMessage,
  ProtocolError,
  type ServerEvent,
} from "../src/talk/protocol";
import { meterValue } from "../src/format";

const metadata = (id: string, resume: object | null = { resume_token: "tok", window_secs: 60 }): string =>
  JSON.stringify({
    type: "conversation_initiation_metadata",
    conversation_initiation_metadata_event: {
      conversation_id: id,
      agent_output_audio_format: "pcm_16000",
      user_input_audio_format: "pcm_16000",
      ...(resume ? { velox_resume: resume } : {}),
    },
  });

describe("the server's messages", () => {
  it("reads the initiation metadata with Velox's resume token", () => {
    const event = parseServerMessage(metadata("conv_1"));
    expect(event).toEqual({
      kind: "metadata",
      conversationId: "conv_1",
      output: { encoding: "pcm16", rateHz: 16000 },
      input: { encoding: "pcm16", rateHz: 16000 },
      resume: { token: "tok", windowS: 60 },
    });
  });

  it("reads metadata without a resume token as not resumable", () => {
    const event = parseServerMessage(metadata("conv_2", null));
    expect(event.kind === "metadata" && event.resume).toBeNull();
  });

  it("decodes an audio event's base64 and keeps its event id", () => {
    const raw = JSON.stringify({ type: "audio", audio_event: { audio_base_64: btoa("\x01\x02\x03\x04"), event_id: 7 } });
    const event = parseServerMessage(raw) as Extract<ServerEvent, { kind: "audio" }>;
    expect(event.eventId).toBe(7);
    expect(Array.from(event.bytes)).toEqual([1, 2, 3, 4]);
  });

  it("reads transcripts, corrections, interruptions, pings and errors", () => {
    expect(parseServerMessage('{"type":"user_transcript","user_transcription_event":{"user_transcript":"hi"}}')).toEqual({
      kind: "user_transcript",
      text: "hi",
    });
    expect(
      parseServerMessage(
        '{"type":"agent_response_correction","agent_response_correction_event":{"original_agent_response":"a b","corrected_agent_response":"a"}}',
      ),
    ).toEqual({ kind: "agent_correction", text: "a" });
    expect(parseServerMessage('{"type":"interruption","interruption_event":{"event_id":4}}')).toEqual({ kind: "interruption", eventId: 4 });
    expect(parseServerMessage('{"type":"ping","ping_event":{"event_id":9,"ping_ms":null}}')).toEqual({ kind: "ping", eventId: 9 });
    expect(parseServerMessage('{"type":"error","error_event":{"code":1008,"message":"bad"}}')).toEqual({ kind: "error", message: "bad" });
    expect(parseServerMessage('{"type":"vad_score","vad_score_event":{"vad_score":0.2}}')).toEqual({ kind: "ignored", type: "vad_score" });
  });

  it("refuses what is not JSON, and an unknown audio format", () => {
    expect(() => parseServerMessage("{nope")).toThrow(ProtocolError);
    expect(() =>
      parseServerMessage(
        JSON.stringify({
          type: "conversation_initiation_metadata",
          conversation_initiation_metadata_event: { conversation_id: "c", agent_output_audio_format: "mp3_44100" },
        }),
      ),
    ).toThrow(/unknown audio format/);
  });
});

describe("what the app sends and plays", () => {
  it("sends microphone audio as base64 PCM", () => {
    expect(JSON.parse(audioChunkMessage(new Uint8Array([0, 1, 255])))).toEqual({ user_audio_chunk: "AAH/" });
  });

  it("drops the audio of events an interruption cut", () => {
    const filter = new InterruptionFilter();
    expect(filter.plays(3)).toBe(true);
    filter.interrupted(5);
    expect([4, 5, 6].map((id) => filter.plays(id))).toEqual([false, false, true]);
    filter.interrupted(2); // an older interruption does not bring cut audio back
    expect(filter.plays(5)).toBe(false);
  });

  it("decodes PCM16 little-endian and mu-law", () => {
    const pcm = decodeAgentAudio(new Uint8Array([0x00, 0x40, 0x00, 0xc0]), { encoding: "pcm16", rateHz: 16000 });
    expect(Array.from(pcm)).toEqual([0.5, -0.5]);
    const mulaw = decodeAgentAudio(new Uint8Array([0xff, 0x7f, 0x00, 0x80]), { encoding: "mulaw", rateHz: 8000 });
    expect(mulaw[0]).toBe(0);
    expect(mulaw[1]).toBeCloseTo(0, 6);
    expect(mulaw[2]).toBeCloseTo(-32124 / 32768, 4);
    expect(mulaw[3]).toBeCloseTo(32124 / 32768, 4);
  });

  it("resamples across blocks without losing or inventing samples", () => {
    const up = new Resampler(8000, 16000);
    const first = up.resample(Float32Array.from([0, 1, 0, -1]));
    const second = up.resample(Float32Array.from([0, 1, 0, -1]));
    expect(first.length + second.length).toBe(16);
    const down = new Resampler(24000, 16000);
    let total = 0;
    for (let i = 0; i < 30; i += 1) total += down.resample(new Float32Array(480)).length;
    expect(total).toBe(9600);
  });

  it("passes a lead's details as dynamic variables", () => {
    expect(
      leadVariables({
        phone_number: "+12125550100",
        campaign_name: "Spring",
        time_zone: "America/New_York",
        variables: { name: "Maria", "company name": "Lopez", rooms: 2, extra: { a: 1 }, gone: null },
      }),
    ).toEqual({
      name: "Maria",
      company_name: "Lopez",
      rooms: 2,
      extra: '{"a":1}',
      lead_phone_number: "+12125550100",
      campaign_name: "Spring",
      lead_time_zone: "America/New_York",
    });
  });

  it("maps the microphone's level to the meter", () => {
    expect(meterValue(0)).toBe(0);
    expect(meterValue(1)).toBe(100);
    expect(meterValue(0.001)).toBe(0); // -60 dBFS
    expect(meterValue(0.0316)).toBe(50); // about -30 dBFS
  });

  it("reaches Velox where the app was loaded from, with the signed query", () => {
    const at = { protocol: "https:", host: "field.example:8443" } as Location;
    expect(socketUrlOnThisServer("ws://127.0.0.1:8000/v1/convai/conversation?agent_id=a&conversation_signature=s", at)).toEqual({
      url: "wss://field.example:8443/v1/convai/conversation?agent_id=a&conversation_signature=s",
      endpoint: "wss://field.example:8443/v1/convai/conversation",
    });
  });
});

describe("reconnecting", () => {
  it("retries quickly, half a second apart at most, with some spread", () => {
    expect(retryDelayMs(0, () => 0.5)).toBe(250);
    expect(retryDelayMs(1, () => 0.5)).toBe(500);
    expect(retryDelayMs(10, () => 0.5)).toBe(500);
    expect(retryDelayMs(10, () => 1)).toBe(600);
    expect(retryDelayMs(0, () => 0)).toBe(200);
  });

  it("resumes only a dropped conversation that has a resume token", () => {
    const resume = { token: "t", windowS: 60 };
    expect(mayResume(1006, true, resume)).toBe(true);
    expect(mayResume(4001, true, resume)).toBe(true);
    expect(mayResume(1000, true, resume)).toBe(false); // the agent ended it
    expect(mayResume(1008, true, resume)).toBe(false); // refused
    expect(mayResume(1006, false, resume)).toBe(false); // never connected
    expect(mayResume(1006, true, null)).toBe(false);
    expect(mayResume(1006, true, { token: "t", windowS: 0 })).toBe(false);
  });
});

class ScriptedSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readyState = 0;
  sent: string[] = [];
  closedWith: number | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(data);
  }

  close(code?: number): void {
    this.closedWith = code ?? 1005;
  }

  opens(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  says(data: string): void {
    this.onmessage?.({ data } as MessageEvent);
  }

  drops(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" } as CloseEvent);
  }
}

describe("ConversationLink", () => {
  let sockets: ScriptedSocket[];
  let statuses: LinkStatus[];
  let clock: number;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    statuses = [];
    clock = 1_000_000;
  });
  afterEach(() => vi.useRealTimers());

  function link(): ConversationLink {
    const made = new ConversationLink({
      url: "ws://h/v1/convai/conversation?agent_id=a&conversation_signature=s",
      endpoint: "ws://h/v1/convai/conversation",
      agentId: "a",
      variables: { name: "Maria" },
      onStatus: (status) => statuses.push(status),
      onEvent: () => undefined,
      openSocket: (url) => {
        const socket = new ScriptedSocket(url);
        sockets.push(socket);
        return socket;
      },
      now: () => clock,
    });
    made.start();
    return made;
  }

  function advance(ms: number): void {
    clock += ms;
    vi.advanceTimersByTime(ms);
  }

  it("initiates once, answers pings, and takes the same conversation back after a drop", () => {
    const conversation = link();
    const first = sockets[0]!;
    first.opens();
    expect(JSON.parse(first.sent[0]!)).toEqual({ type: "conversation_initiation_client_data", dynamic_variables: { name: "Maria" } });
    first.says(metadata("conv_9"));
    first.says('{"type":"ping","ping_event":{"event_id":3}}');
    expect(JSON.parse(first.sent[1]!)).toEqual({ type: "pong", event_id: 3 });
    expect(conversation.send("x")).toBe(true);

    first.drops();
    expect(statuses.at(-1)).toEqual({ state: "reconnecting", conversationId: "conv_9", attempt: 0 });
    expect(conversation.send("lost")).toBe(false);
    advance(300);
    const second = sockets[1]!;
    const query = new URL(second.url).searchParams;
    expect([query.get("agent_id"), query.get("conversation_id"), query.get("resume_token")]).toEqual(["a", "conv_9", "tok"]);
    second.drops(); // the network is not back yet
    advance(600);
    const third = sockets[2]!;
    third.opens();
    expect(third.sent).toEqual([]); // Velox hands a resuming socket its conversation unasked
    third.says(metadata("conv_9"));
    expect(statuses.at(-1)).toEqual({ state: "live", conversationId: "conv_9", resumed: true });
  });

  it("ends the call when the window passes without the network", () => {
    link();
    sockets[0]!.opens();
    sockets[0]!.says(metadata("conv_1", { resume_token: "tok", window_secs: 3 }));
    sockets[0]!.drops();
    for (let i = 0; i < 20 && statuses.at(-1)?.state !== "ended"; i += 1) {
      advance(600);
      sockets.at(-1)!.drops();
    }
    expect(statuses.at(-1)).toMatchObject({ state: "ended", reason: "not_resumed" });
    expect(sockets.length).toBeLessThan(12);
  });

  it("gives up a quiet connection with 4001 and resumes", () => {
    link();
    sockets[0]!.opens();
    sockets[0]!.says(metadata("conv_2"));
    advance(12_001);
    expect(sockets[0]!.closedWith).toBe(4001);
    expect(statuses.at(-1)?.state).toBe("reconnecting");
    advance(400);
    expect(sockets.length).toBe(2);
  });

  it("ends when the agent ends, and when the user hangs up", () => {
    link();
    sockets[0]!.opens();
    sockets[0]!.says(metadata("conv_3"));
    sockets[0]!.drops(1000);
    expect(statuses.at(-1)).toMatchObject({ state: "ended", reason: "agent_ended" });

    const second = link();
    sockets[1]!.opens();
    sockets[1]!.says(metadata("conv_4"));
    second.end();
    expect(sockets[1]!.closedWith).toBe(1000);
    expect(statuses.at(-1)).toMatchObject({ state: "ended", reason: "you_ended" });
  });

  it("does not try to resume a conversation that never started", () => {
    link();
    sockets[0]!.drops();
    expect(statuses.at(-1)).toMatchObject({ state: "ended", reason: "failed" });
  });
});
