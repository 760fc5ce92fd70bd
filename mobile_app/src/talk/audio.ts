/**
 * A call's audio in the browser: the microphone (with the platform's echo cancellation, noise
 * suppression and gain control asked for) through a capture worklet, and the agent's voice
 * through a playback worklet that a barge-in empties at once. Both worklets are this app's own
 * files, served with it (nothing is loaded from another site).
 */

import captureWorkletUrl from "./worklets/capture.worklet.ts?worker&url";
import playbackWorkletUrl from "./worklets/playback.worklet.ts?worker&url";
import { decodeAgentAudio, Resampler } from "./audio-codec";
import type { AudioFormat } from "./protocol";

/** What the app asks of the microphone; the platform may grant less (see `granted`). */
export function microphoneConstraints(deviceId: string | null): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    channelCount: 1,
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
  };
}

export interface Microphone {
  deviceId: string;
  label: string;
}

export async function microphones(): Promise<Microphone[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((device) => device.kind === "audioinput" && device.deviceId)
    .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `Microphone ${index + 1}` }));
}

export interface AudioCallbacks {
  onChunk: (pcm16: Uint8Array) => void;
  onLevel: (rms: number) => void;
  onPlaying: (playing: boolean) => void;
}

export class CallAudio {
  private stream: MediaStream | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private resampler: Resampler | null = null;
  private output: AudioFormat = { encoding: "pcm16", rateHz: 16_000 };

  private constructor(
    private readonly context: AudioContext,
    private readonly capture: AudioWorkletNode,
    private readonly playback: AudioWorkletNode,
  ) {}

  /** Open the microphone and the speaker; call it from the tap that starts the call. */
  static async open(rateHz: number, deviceId: string | null, callbacks: AudioCallbacks): Promise<CallAudio> {
    const context = new AudioContext({ sampleRate: rateHz, latencyHint: "interactive" });
    try {
      await Promise.all([
        context.audioWorklet.addModule(captureWorkletUrl),
        context.audioWorklet.addModule(playbackWorkletUrl),
      ]);
      const capture = new AudioWorkletNode(context, "velox-capture", { numberOfInputs: 1, numberOfOutputs: 0 });
      const playback = new AudioWorkletNode(context, "velox-playback", { numberOfInputs: 0, outputChannelCount: [1] });
      playback.connect(context.destination);
      capture.port.onmessage = (message: MessageEvent<{ pcm: ArrayBuffer; level: number }>) => {
        callbacks.onChunk(new Uint8Array(message.data.pcm));
        callbacks.onLevel(message.data.level);
      };
      playback.port.onmessage = (message: MessageEvent<{ playing: boolean }>) => callbacks.onPlaying(message.data.playing);
      const audio = new CallAudio(context, capture, playback);
      await audio.useMicrophone(deviceId);
      await context.resume();
      return audio;
    } catch (error) {
      await context.close();
      throw error;
    }
  }

  get rateHz(): number {
    return this.context.sampleRate;
  }

  /** The microphone in use, and what the platform granted of what was asked. */
  granted(): MediaTrackSettings | null {
    return this.stream?.getAudioTracks()[0]?.getSettings() ?? null;
  }

  async useMicrophone(deviceId: string | null): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(deviceId), video: false });
    const source = this.context.createMediaStreamSource(stream);
    source.connect(this.capture);
    this.source?.disconnect();
    this.stream?.getTracks().forEach((track) => track.stop());
    this.source = source;
    this.stream = stream;
  }

  setOutputFormat(format: AudioFormat): void {
    this.output = format;
    this.resampler = new Resampler(format.rateHz, this.context.sampleRate);
  }

  setMuted(muted: boolean): void {
    this.capture.port.postMessage({ muted });
  }

  play(bytes: Uint8Array): void {
    const decoded = decodeAgentAudio(bytes, this.output);
    const samples = this.resampler ? this.resampler.resample(decoded) : decoded;
    this.playback.port.postMessage({ type: "play", samples }, [samples.buffer]);
  }

  /** The caller cut in: what the agent had queued is never heard. */
  clear(): void {
    this.playback.port.postMessage({ type: "clear" });
  }

  /** After the screen was locked or the app hidden, the platform may have suspended audio. */
  async wake(): Promise<void> {
    if (this.context.state === "suspended") await this.context.resume();
  }

  async close(): Promise<void> {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.source?.disconnect();
    this.capture.port.onmessage = null;
    this.playback.port.onmessage = null;
    if (this.context.state !== "closed") await this.context.close();
  }
}
