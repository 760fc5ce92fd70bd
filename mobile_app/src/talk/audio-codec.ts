/** The agent's audio as samples the speaker plays: decoded from its format, at the speaker's rate. */

import type { AudioFormat } from "./protocol";

const MULAW_BIAS = 0x84;

function mulawSample(byte: number): number {
  const u = ~byte & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4)) - MULAW_BIAS;
  return (u & 0x80 ? -magnitude : magnitude) / 32768;
}

/** The agent's audio bytes in `format` as float samples. */
export function decodeAgentAudio(bytes: Uint8Array, format: AudioFormat): Float32Array {
  if (format.encoding === "mulaw") return Float32Array.from(bytes, mulawSample);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < samples.length; i += 1) samples[i] = view.getInt16(i * 2, true) / 32768;
  return samples;
}

/** Linear resampling that carries its position across blocks, so the joins do not click. */
export class Resampler {
  private position = 0; // in input samples, relative to the block being read
  private last = 0;

  constructor(
    private readonly fromHz: number,
    private readonly toHz: number,
  ) {}

  resample(input: Float32Array): Float32Array {
    if (this.fromHz === this.toHz) return input;
    const step = this.fromHz / this.toHz;
    const out: number[] = [];
    while (this.position < input.length) {
      const index = Math.floor(this.position);
      const fraction = this.position - index;
      const before = index === 0 ? this.last : (input[index - 1] ?? 0);
      const after = input[index] ?? before;
      out.push(before + (after - before) * fraction);
      this.position += step;
    }
    this.position -= input.length;
    this.last = input[input.length - 1] ?? this.last;
    return Float32Array.from(out);
  }
}
