/**
 * The microphone, in the audio thread: mono float samples at the context's rate (the rate of the
 * agent's input format) → 16-bit PCM chunks of CHUNK_MS, each with its level (RMS, 0..1) for the
 * meter. Muted, it sends silence: the conversation's timeline goes on, nothing of the room does.
 */

const CHUNK_MS = 40;

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly chunk = new Int16Array(Math.round((sampleRate * CHUNK_MS) / 1000));
  private filled = 0;
  private sumSquares = 0;
  private muted = false;

  constructor() {
    super();
    this.port.onmessage = (message: MessageEvent<{ muted: boolean }>) => {
      this.muted = message.data.muted;
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const samples = inputs[0]?.[0];
    if (!samples) return true;
    for (let i = 0; i < samples.length; i += 1) {
      const value = this.muted ? 0 : Math.max(-1, Math.min(1, samples[i] ?? 0));
      this.sumSquares += value * value;
      this.chunk[this.filled] = value < 0 ? value * 0x8000 : value * 0x7fff;
      this.filled += 1;
      if (this.filled === this.chunk.length) {
        const pcm = this.chunk.slice().buffer;
        this.port.postMessage({ pcm, level: Math.sqrt(this.sumSquares / this.filled) }, [pcm]);
        this.filled = 0;
        this.sumSquares = 0;
      }
    }
    return true;
  }
}

registerProcessor("velox-capture", CaptureProcessor);
