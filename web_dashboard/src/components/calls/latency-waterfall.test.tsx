import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { exchanges, latencyStages } from "@/lib/latency";

import { LatencyWaterfall, stagesEnd } from "./latency-waterfall";

const FULL = {
  end_of_speech_to_endpoint_ms: 300,
  stt_final_ms: 180,
  llm_first_token_ms: 420,
  tts_first_byte_ms: 150,
  voice_to_voice_ms: 980,
  llm_provider: "groq",
};

describe("the latency stages", () => {
  it("places each stage where it begins and marks the slowest part of the chain", () => {
    const stages = latencyStages(FULL);
    expect(stages.map((s) => [s.key, s.startMs, s.durationMs, s.slowest])).toEqual([
      ["endpoint", 0, 300, false],
      ["stt", 0, 180, false],
      ["llm", 300, 420, true],
      ["tts", 720, 150, false],
      ["first_audio", 0, 980, false],
    ]);
    expect(stagesEnd(stages)).toBe(980);
  });

  it("leaves out the stages a turn has no value for", () => {
    const stages = latencyStages({ voice_to_voice_ms: 700, stt_final_ms: null, llm_provider: "groq" });
    expect(stages.map((s) => s.key)).toEqual(["first_audio"]);
    expect(stages[0]?.slowest).toBe(false);
    expect(latencyStages({})).toEqual([]);
  });

  it("takes an exchange's chain from the caller's turn, not again from the answer", () => {
    const turns = [
      { role: "agent", velox_metrics: { tts_first_byte_ms: 90, llm_first_token_ms: null } },
      { role: "user", velox_metrics: FULL },
      { role: "agent", velox_metrics: { llm_first_token_ms: 420, tts_first_byte_ms: 150, voice_to_voice_ms: 980 } },
      { role: "user", velox_metrics: {} },
    ];
    expect(exchanges(turns).map((e) => e.index)).toEqual([0, 1]);
  });
});

describe("the latency waterfall", () => {
  it("draws a bar per stage to scale and names the slowest one", () => {
    const { container } = render(<LatencyWaterfall stages={latencyStages(FULL)} scaleMs={1000} label="Latency of turn 2" />);
    const list = screen.getByRole("list", { name: "Latency of turn 2" });
    const items = within(list).getAllByRole("listitem");
    expect(items).toHaveLength(5);
    expect(items[2]).toHaveTextContent("LLM first token (slowest stage)420 ms");
    expect(items[4]).toHaveTextContent("First audio on the line980 ms");

    const llm = container.querySelector<HTMLElement>('[data-stage="llm"]');
    expect(llm?.style.left).toBe("30%");
    expect(llm?.style.width).toBe("42%");
    expect(container.querySelectorAll("[data-slowest]")).toHaveLength(1);
  });
});
