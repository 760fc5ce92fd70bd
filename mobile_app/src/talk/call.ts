/**
 * One call with an AI agent from the app: the microphone and speaker (`audio.ts`), the
 * connection that survives drops (`link.ts`), the phone kept awake (`device.ts`), and what the
 * screen shows of it all, as one snapshot handed to `onChange` whenever it moves.
 */

import { CallAudio } from "./audio";
import { DuringCall } from "./device";
import { ConversationLink, type LinkStatus } from "./link";
import { audioChunkMessage, InterruptionFilter, type Scalar, type ServerEvent } from "./protocol";

export interface TranscriptLine {
  id: number;
  role: "agent" | "user";
  text: string;
}

export type Phase = "connecting" | "live" | "reconnecting" | "ended";

export interface CallView {
  phase: Phase;
  /** What is happening, in words (read out by screen readers as it changes). */
  notice: string;
  conversationId: string | null;
  lines: TranscriptLine[];
  muted: boolean;
  level: number;
  agentSpeaking: boolean;
  screenAwake: boolean;
  reconnects: number;
  /** What the platform granted of the audio processing the app asked for. */
  processing: { echoCancellation: boolean; noiseSuppression: boolean; autoGainControl: boolean } | null;
}

export interface CallStart {
  /** The signed conversation URL the API gave for this agent (its host is not used). */
  signedUrl: string;
  agentId: string;
  agentName: string;
  leadName: string;
  variables: Record<string, Scalar>;
  microphoneId: string | null;
  onChange: (view: CallView) => void;
}

/** The signed URL's query on this app's own server: the app reaches Velox the way it was loaded. */
export function socketUrlOnThisServer(signedUrl: string, location: Location): { url: string; endpoint: string } {
  const signed = new URL(signedUrl);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const endpoint = `${scheme}//${location.host}${signed.pathname}`;
  return { url: `${endpoint}${signed.search}`, endpoint };
}

const AGENT_RATE_HZ = 16_000;

export class TalkCall {
  private view: CallView = {
    phase: "connecting",
    notice: "Connecting…",
    conversationId: null,
    lines: [],
    muted: false,
    level: 0,
    agentSpeaking: false,
    screenAwake: false,
    reconnects: 0,
    processing: null,
  };
  private link: ConversationLink | null = null;
  private readonly filter = new InterruptionFilter();
  private readonly device: DuringCall;
  private nextLine = 1;
  private wasLive = false;

  private constructor(
    private readonly start: CallStart,
    private readonly audio: CallAudio,
  ) {
    this.device = new DuringCall((awake) => this.update({ screenAwake: awake }));
  }

  /** Open the microphone (call from the tap), then connect. */
  static async begin(start: CallStart): Promise<TalkCall> {
    let call: TalkCall | null = null;
    const audio = await CallAudio.open(AGENT_RATE_HZ, start.microphoneId, {
      onChunk: (pcm) => call?.sendAudio(pcm),
      onLevel: (level) => call?.update({ level: call.view.muted ? 0 : level }),
      onPlaying: (playing) => call?.update({ agentSpeaking: playing }),
    });
    call = new TalkCall(start, audio);
    call.noteProcessing();
    call.connect();
    return call;
  }

  get current(): CallView {
    return this.view;
  }

  setMuted(muted: boolean): void {
    this.audio.setMuted(muted);
    this.device.setMicrophoneActive(!muted);
    this.update({ muted, level: muted ? 0 : this.view.level });
  }

  async useMicrophone(deviceId: string): Promise<void> {
    await this.audio.useMicrophone(deviceId);
    this.noteProcessing();
  }

  private noteProcessing(): void {
    const granted = this.audio.granted();
    this.update({
      processing: granted
        ? {
            echoCancellation: granted.echoCancellation === true,
            noiseSuppression: granted.noiseSuppression === true,
            autoGainControl: granted.autoGainControl === true,
          }
        : null,
    });
  }

  /** The platform may have paused audio while the app was hidden or the screen locked. */
  async wake(): Promise<void> {
    await this.audio.wake();
  }

  hangUp(): void {
    this.link?.end();
  }

  private connect(): void {
    const { url, endpoint } = socketUrlOnThisServer(this.start.signedUrl, window.location);
    this.link = new ConversationLink({
      url,
      endpoint,
      agentId: this.start.agentId,
      variables: this.start.variables,
      onStatus: (status) => this.onStatus(status),
      onEvent: (event) => this.onEvent(event),
    });
    this.link.start();
    void this.device.begin({
      title: `Talking with ${this.start.agentName}`,
      subtitle: this.start.leadName,
      onHangUp: () => this.hangUp(),
      onToggleMicrophone: () => this.setMuted(!this.view.muted),
    });
  }

  private sendAudio(pcm16: Uint8Array): void {
    // While the line is down the room's audio is dropped, not queued: stale speech is no help.
    if (this.view.phase === "live") this.link?.send(audioChunkMessage(pcm16));
  }

  private onStatus(status: LinkStatus): void {
    switch (status.state) {
      case "connecting":
        this.update({ phase: "connecting", notice: "Connecting…" });
        return;
      case "live":
        this.update({
          phase: "live",
          conversationId: status.conversationId,
          notice: status.resumed ? "Reconnected" : "Connected",
          reconnects: this.view.reconnects + (status.resumed ? 1 : 0),
        });
        this.wasLive = true;
        return;
      case "reconnecting":
        this.update({ phase: "reconnecting", notice: "Connection lost — reconnecting…" });
        return;
      case "ended":
        this.update({ phase: "ended", notice: status.message, level: 0, agentSpeaking: false });
        void this.audio.close();
        void this.device.end();
        return;
    }
  }

  private onEvent(event: ServerEvent): void {
    switch (event.kind) {
      case "metadata":
        if (event.input.encoding !== "pcm16" || event.input.rateHz !== this.audio.rateHz) {
          this.update({
            notice: `This agent takes ${event.input.encoding} audio at ${event.input.rateHz} Hz, which the app cannot send. Ask an admin to set its input format to pcm_16000.`,
          });
          this.hangUp();
          return;
        }
        this.audio.setOutputFormat(event.output);
        return;
      case "audio":
        if (this.filter.plays(event.eventId)) this.audio.play(event.bytes);
        return;
      case "interruption":
        this.filter.interrupted(event.eventId);
        this.audio.clear();
        return;
      case "agent_response":
        this.addLine("agent", event.text);
        return;
      case "agent_correction":
        this.correctLastAgentLine(event.text);
        return;
      case "user_transcript":
        this.addLine("user", event.text);
        return;
      case "error":
        this.update({ notice: event.message });
        return;
      case "ping":
      case "ignored":
        return;
    }
  }

  private addLine(role: TranscriptLine["role"], text: string): void {
    if (!text.trim()) return;
    this.update({ lines: [...this.view.lines, { id: this.nextLine++, role, text }] });
  }

  private correctLastAgentLine(text: string): void {
    const lines = [...this.view.lines];
    for (let i = lines.length - 1; i >= 0; i -= 1) {
      const line = lines[i];
      if (line?.role === "agent") {
        lines[i] = { ...line, text };
        this.update({ lines });
        return;
      }
    }
  }

  private update(change: Partial<CallView>): void {
    this.view = { ...this.view, ...change };
    this.start.onChange(this.view);
  }

  get everConnected(): boolean {
    return this.wasLive;
  }
}
