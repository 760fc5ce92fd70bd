/**
 * The agent's voice, in the audio thread: a queue of float sample blocks (already at the
 * context's rate) played back to back. `clear` drops everything queued at once (the caller
 * cut in). It says when it starts and stops playing, so the screen can show who is talking.
 */

type Command = { type: "play"; samples: Float32Array } | { type: "clear" };

class PlaybackProcessor extends AudioWorkletProcessor {
  private readonly queue: Float32Array[] = [];
  private offset = 0;
  private playing = false;

  constructor() {
    super();
    this.port.onmessage = (message: MessageEvent<Command>) => {
      if (message.data.type === "play") {
        this.queue.push(message.data.samples);
      } else {
        this.queue.length = 0;
        this.offset = 0;
      }
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0];
    const first = output?.[0];
    if (!output || !first) return true;
    let written = 0;
    while (written < first.length && this.queue.length > 0) {
      const block = this.queue[0] as Float32Array;
      const count = Math.min(first.length - written, block.length - this.offset);
      first.set(block.subarray(this.offset, this.offset + count), written);
      written += count;
      this.offset += count;
      if (this.offset >= block.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    first.fill(0, written);
    for (let channel = 1; channel < output.length; channel += 1) output[channel]?.set(first);
    const playing = written > 0;
    if (playing !== this.playing) {
      this.playing = playing;
      this.port.postMessage({ playing });
    }
    return true;
  }
}

registerProcessor("velox-playback", PlaybackProcessor);
