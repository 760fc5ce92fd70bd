import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { timelineMarks } from "@/lib/recording-marks";
import { fakeApi, renderWithClient } from "@/test/render";

import { CallTranscript, playingLine } from "./call-transcript";

const line = (role: string, message: string, time: number, interrupted = false) => ({
  role,
  message,
  time_in_call_secs: time,
  interrupted,
  velox_source: "voice",
  velox_metrics: {},
});
const TRANSCRIPT = [line("agent", "Thanks for calling.", 0), line("user", "I was charged twice.", 3), line("agent", "Let me look that", 6, true)];

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("the transcript beside the recording", () => {
  it("knows the line playing at a time", () => {
    expect(playingLine(TRANSCRIPT, null)).toBeNull();
    expect(playingLine(TRANSCRIPT, 2.9)).toBe(0);
    expect(playingLine(TRANSCRIPT, 3)).toBe(1);
    expect(playingLine(TRANSCRIPT, 60)).toBe(2);
  });

  it("seeks the player to a chosen line and highlights it", () => {
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    fakeApi({ "GET /v1/convai/conversations/conv_1/audio/peaks": { status: 404, body: { detail: { status: "audio_not_found", message: "the recording file is missing" } } } });
    const { container } = renderWithClient(<CallTranscript conversationId="conv_1" transcript={TRANSCRIPT} hasAudio />);
    const audio = container.querySelector("audio") as HTMLAudioElement;
    expect(audio.getAttribute("src")).toBe("/v1/convai/conversations/conv_1/audio");

    fireEvent.click(screen.getByRole("button", { name: /^Caller 0:03 I was charged twice\. \(play from here\)$/ }));
    expect(audio.currentTime).toBe(3);
    expect(play).toHaveBeenCalled();
    expect(screen.getByText("I was charged twice.").closest("li")).toHaveAttribute("aria-current", "true");
    expect(screen.getByText("Interrupted")).toBeInTheDocument();
  });

  it("shows plain lines without a player when the call was not recorded", () => {
    const { container } = render(<CallTranscript conversationId="conv_1" transcript={TRANSCRIPT} hasAudio={false} />);
    expect(container.querySelector("audio")).toBeNull();
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.getByRole("list", { name: "Transcript" }).children).toHaveLength(3);
  });

  it("draws the lanes from the API's peaks and marks interruptions and backchannels to seek to", async () => {
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    const requests = fakeApi({ "GET /v1/convai/conversations/conv_1/audio/peaks": { body: { duration_secs: 12, peaks_per_second: 50, channels: [[0, 0.4], [0.5, 0]] } } });
    const events = [
      { kind: "barge_in", at_ms: 6500, data: {} },
      { kind: "backchannel", at_ms: 1200, data: { text: "mm-hm" } },
      { kind: "media_started", at_ms: 0, data: {} },
    ];
    const { container } = renderWithClient(<CallTranscript conversationId="conv_1" transcript={TRANSCRIPT} hasAudio events={events} />);

    expect(await screen.findByText("0:00 / 0:12")).toBeInTheDocument();
    expect(requests.map((request) => request.url)).toEqual(["/v1/convai/conversations/conv_1/audio/peaks"]);
    const interruption = screen.getByRole("button", { name: "Interruption at 0:06, play from here" });
    expect(interruption.style.left).toBe(`${(6.5 / 12) * 100}%`);
    expect(screen.getByRole("button", { name: "Backchannel at 0:01, play from here" })).toHaveAttribute("title", "Backchannel at 0:01: “mm-hm”");

    fireEvent.click(interruption);
    const audio = container.querySelector("audio") as HTMLAudioElement;
    expect(audio.currentTime).toBe(6.5);
    expect(play).toHaveBeenCalled();
    expect(screen.getByText("Let me look that").closest("li")).toHaveAttribute("aria-current", "true");
    expect(screen.getByRole("button", { name: "Play the recording" })).toBeInTheDocument();
  });

  it("marks an interrupted agent line when the call logged no interruption event", () => {
    const lines = [line("agent", "Hello, I can", 0, true), line("user", "Stop.", 1.5), line("agent", "Sure.", 3)];
    expect(timelineMarks(lines, [])).toEqual([{ kind: "interruption", seconds: 1.5, text: null }]);
    expect(timelineMarks(lines, [{ kind: "late_interruption", at_ms: 1400, data: { text: "Stop." } }])).toEqual([{ kind: "interruption", seconds: 1.4, text: "Stop." }]);
  });
});
