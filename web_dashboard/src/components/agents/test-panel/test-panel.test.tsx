import type { PartialOptions } from "@elevenlabs/client";
import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { startFailure, turnLatencyOf } from "@/lib/test-conversation";
import { fakeApi, renderWithClient } from "@/test/render";

import { TestPanel } from "./test-panel";
import { LIBSAMPLERATE_PATH, type OpenSession, type TestSession } from "./use-test-conversation";

const METRICS = {
  type: "velox_turn_metrics",
  velox_turn_metrics_event: { end_of_speech_to_endpoint_ms: 240, stt_final_ms: 180, llm_first_token_ms: 610, tts_first_byte_ms: 150, voice_to_voice_ms: 1090, interrupted: false },
};

/** A session the test drives by hand: the options the panel gave, and what it asked of it. */
function scriptedSession() {
  const calls = { muted: [] as boolean[], sent: [] as string[], ended: 0 };
  let options: PartialOptions | null = null;
  const session: TestSession = {
    getId: () => "conv_test",
    endSession: async () => void (calls.ended += 1),
    setMicMuted: (muted) => void calls.muted.push(muted),
    getInputVolume: () => 0.42,
    sendUserMessage: (text) => void calls.sent.push(text),
  };
  const open: OpenSession = async (given) => {
    options = given;
    given.onConnect?.({ conversationId: "conv_test" });
    return session;
  };
  return { open, calls, options: () => options as PartialOptions };
}

afterEach(() => vi.unstubAllGlobals());

describe("the agent's Test panel", () => {
  it("talks over the Velox socket and shows lines, the latency per exchange and the mic level", async () => {
    const script = scriptedSession();
    renderWithClient(<TestPanel agentId="agent_1" isPrivate={false} unsaved={false} open={script.open} />);

    await userEvent.click(screen.getByRole("button", { name: "Start voice test" }));

    const options = script.options();
    expect(options).toMatchObject({ agentId: "agent_1", origin: window.location.origin.replace("http", "ws"), connectionType: "websocket", textOnly: false, libsampleratePath: LIBSAMPLERATE_PATH });
    expect(await screen.findByText("Live: speak now")).toBeInTheDocument();
    act(() => {
      options.onMessage?.({ source: "ai", role: "agent", message: "Hello, Acme here." } as never);
      options.onMessage?.({ source: "user", role: "user", message: "When do you open?" } as never);
      options.onMessage?.({ source: "ai", role: "agent", message: "At nine." } as never);
      options.onIncomingEvent?.(METRICS as never);
    });
    const transcript = screen.getByRole("list", { name: "Test transcript" });
    expect(transcript).toHaveTextContent("AgentHello, Acme here.");
    expect(transcript).toHaveTextContent("YouWhen do you open?");
    expect(screen.getByTestId("turn-latency")).toHaveTextContent("Answered in 1.09 s voice to voice (end of turn 240 ms, STT final 180 ms, LLM first token 610 ms, TTS first byte 150 ms)");
    await waitFor(() => expect(screen.getByRole("meter", { name: "Mic" })).toHaveAttribute("aria-valuenow", "42"));

    await userEvent.click(screen.getByRole("button", { name: "Mute" }));
    expect(script.calls.muted).toEqual([true]);
    expect(screen.getByRole("button", { name: "Unmute" })).toHaveAttribute("aria-pressed", "true");

    await userEvent.click(screen.getByRole("button", { name: "End" }));
    expect(script.calls.ended).toBe(1);
    expect(screen.getByRole("link", { name: "Open its call page" }).getAttribute("href")).toMatch(/^\/calls\/view\/?\?id=conv_test$/);
  });

  it("chats in text and shows what was sent", async () => {
    const script = scriptedSession();
    renderWithClient(<TestPanel agentId="agent_1" isPrivate={false} unsaved open={script.open} />);
    expect(screen.getByText(/unsaved changes are not in it/)).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Start text chat" }));
    expect(script.options().textOnly).toBe(true);
    await userEvent.type(await screen.findByLabelText("Message to the agent"), "Are you open on Sunday?{Enter}");

    expect(script.calls.sent).toEqual(["Are you open on Sunday?"]);
    expect(screen.getByRole("list", { name: "Test transcript" })).toHaveTextContent("YouAre you open on Sunday?");
    expect(screen.queryByRole("meter")).not.toBeInTheDocument();
  });

  it("starts a private agent's conversation from a signed URL the session cookie pays for", async () => {
    fakeApi({ "GET /v1/convai/conversation/get-signed-url": { body: { signed_url: "ws://velox.test/v1/convai/conversation?agent_id=agent_1&token=t" } } });
    const script = scriptedSession();
    renderWithClient(<TestPanel agentId="agent_1" isPrivate unsaved={false} open={script.open} />);

    await userEvent.click(screen.getByRole("button", { name: "Start voice test" }));

    await screen.findByText("Live: speak now");
    expect(script.options()).toMatchObject({ signedUrl: "ws://velox.test/v1/convai/conversation?agent_id=agent_1&token=t", connectionType: "websocket" });
    expect(script.options()).not.toHaveProperty("agentId");
  });

  it("says in words when a private agent is not the user's to call", async () => {
    fakeApi({ "GET /v1/convai/conversation/get-signed-url": { status: 403, body: { detail: { status: "forbidden", message: "not allowed" } } } });
    const script = scriptedSession();
    renderWithClient(<TestPanel agentId="agent_1" isPrivate unsaved={false} open={script.open} />);

    await userEvent.click(screen.getByRole("button", { name: "Start voice test" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("This agent is private and your role may not start conversations with it");
    expect(script.options()).toBeNull();
  });

  it("says when the microphone is blocked or the server refused", () => {
    expect(startFailure(new DOMException("denied", "NotAllowedError"), null)).toMatch(/^The microphone is blocked for this site/);
    expect(startFailure(new DOMException("none", "NotFoundError"), null)).toMatch(/^No microphone was found/);
    expect(startFailure(new Error("closed"), "override of 'conversation.text_only' is not allowed")).toBe("The server refused the conversation: override of 'conversation.text_only' is not allowed");
    const refused = Object.assign(new Error("closed"), { closeCode: 1006 });
    expect(startFailure(refused, null)).toMatch(/^The server refused the conversation \(the connection closed, code 1006\)/);
    const reason = Object.assign(new Error("closed"), { closeCode: 1008, closeReason: "the agent is not available right now" });
    expect(startFailure(reason, null)).toBe("The server refused the conversation: the agent is not available right now");
  });

  it("reads only Velox's turn metrics from the socket's events", () => {
    expect(turnLatencyOf({ type: "vad_score", vad_score_event: { vad_score: 0.5 } })).toBeNull();
    expect(turnLatencyOf({ ...METRICS, velox_turn_metrics_event: { voice_to_voice_ms: "fast", interrupted: true } })).toEqual({
      voiceToVoiceMs: null,
      endOfSpeechToEndpointMs: null,
      sttFinalMs: null,
      llmFirstTokenMs: null,
      ttsFirstByteMs: null,
      interrupted: true,
    });
  });
});
