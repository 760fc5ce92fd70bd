/**
 * One exchange's latency chain, from the metrics the engine stores per turn
 * (`velox_metrics`, app/engine/transcript.py and app/engine/session.py). The caller's turn that
 * an answer follows carries the whole chain; an agent turn with no such caller turn before it
 * (a first message) carries its own part.
 *
 * What each key measures, in milliseconds:
 * - `end_of_speech_to_endpoint_ms`: the caller stopped speaking → the turn was judged over;
 * - `stt_final_ms`: the caller stopped speaking → the transcriber's final text (it runs beside
 *   the endpointing, so its bar starts at the end of speech too);
 * - `llm_first_token_ms`: the model was asked → its first token (asked when the turn ended);
 * - `tts_first_byte_ms`: speech was requested → its first audio byte (after the first text);
 * - `voice_to_voice_ms`: the caller stopped speaking → the answer's first audio on the line.
 * Bars are placed where each stage begins as far as the metrics tell; a stage with no value is
 * left out.
 */
export interface LatencyStage {
  key: string;
  label: string;
  startMs: number;
  durationMs: number;
  /** The slowest of the stages that make up the chain (never the end-to-end total). */
  slowest: boolean;
  /** The end-to-end figure (end of speech → first audio), drawn as the reference bar. */
  total: boolean;
}

type Metrics = Record<string, unknown>;

function value(metrics: Metrics, key: string): number | null {
  const found = metrics[key];
  return typeof found === "number" && Number.isFinite(found) && found >= 0 ? found : null;
}

export function latencyStages(metrics: Metrics): LatencyStage[] {
  const endpoint = value(metrics, "end_of_speech_to_endpoint_ms");
  const stt = value(metrics, "stt_final_ms");
  const llm = value(metrics, "llm_first_token_ms");
  const tts = value(metrics, "tts_first_byte_ms");
  const total = value(metrics, "voice_to_voice_ms");

  const stages: Omit<LatencyStage, "slowest">[] = [];
  if (endpoint !== null) stages.push({ key: "endpoint", label: "End of speech → turn end", startMs: 0, durationMs: endpoint, total: false });
  if (stt !== null) stages.push({ key: "stt", label: "STT final", startMs: 0, durationMs: stt, total: false });
  const llmStart = endpoint ?? 0;
  if (llm !== null) stages.push({ key: "llm", label: "LLM first token", startMs: llmStart, durationMs: llm, total: false });
  if (tts !== null) stages.push({ key: "tts", label: "TTS first byte", startMs: llmStart + (llm ?? 0), durationMs: tts, total: false });
  if (total !== null) stages.push({ key: "first_audio", label: "First audio on the line", startMs: 0, durationMs: total, total: true });

  const parts = stages.filter((stage) => !stage.total);
  const slowest = parts.length > 1 ? parts.reduce((a, b) => (b.durationMs > a.durationMs ? b : a)).key : null;
  return stages.map((stage) => ({ ...stage, slowest: stage.key === slowest }));
}

export interface TurnLike {
  role: string;
  velox_metrics: Metrics;
}

/** The index of each turn that carries an exchange's chain, with its stages. */
export function exchanges(turns: TurnLike[]): { index: number; stages: LatencyStage[] }[] {
  const found: { index: number; stages: LatencyStage[] }[] = [];
  turns.forEach((turn, index) => {
    const stages = latencyStages(turn.velox_metrics);
    if (stages.length === 0) return;
    const before = turns[index - 1];
    // An answer's chain is already on the caller's turn before it.
    if (turn.role === "agent" && before?.role === "user" && latencyStages(before.velox_metrics).length > 0) return;
    found.push({ index, stages });
  });
  return found;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
