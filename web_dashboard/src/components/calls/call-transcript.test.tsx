import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

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

afterEach(() => vi.restoreAllMocks());

describe("the transcript beside the recording", () => {
  it("knows the line playing at a time", () => {
    expect(playingLine(TRANSCRIPT, null)).toBeNull();
    expect(playingLine(TRANSCRIPT, 2.9)).toBe(0);
    expect(playingLine(TRANSCRIPT, 3)).toBe(1);
    expect(playingLine(TRANSCRIPT, 60)).toBe(2);
  });

  it("seeks the player to a chosen line and highlights it", () => {
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    const { container } = render(<CallTranscript conversationId="conv_1" transcript={TRANSCRIPT} hasAudio />);
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
});
