"use client";

import type { PartialOptions } from "@elevenlabs/client";
import { useCallback, useEffect, useReducer, useRef, useState } from "react";

import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/errors";
import { endReason, IDLE, startFailure, testReducer, turnLatencyOf, type Mode } from "@/lib/test-conversation";

/** The part of `@elevenlabs/client`'s conversation the panel uses. */
export interface TestSession {
  getId(): string;
  endSession(): Promise<void>;
  setMicMuted(muted: boolean): void;
  getInputVolume(): number;
  sendUserMessage(text: string): void;
}

export type OpenSession = (options: PartialOptions) => Promise<TestSession>;

// The resampler worklet the client would fetch from a CDN when the browser cannot open audio
// at the agent's rate: copied from node_modules into public/ at build (scripts/copy-audio-worklets.mjs).
// The client's own worklets are inlined in its bundle and loaded as blob URLs.
export const LIBSAMPLERATE_PATH = "/audio/libsamplerate.worklet.js";

/** `@elevenlabs/client`, loaded only when a test starts (it stays out of the page's first load). */
export const openWithClient: OpenSession = async (options) => {
  const { Conversation } = await import("@elevenlabs/client");
  return Conversation.startSession(options as Parameters<typeof Conversation.startSession>[0]);
};

/** The page's server as the client's `origin` (it appends `/v1/convai/conversation?…`). */
function socketOrigin(): string {
  return window.location.origin.replace(/^http/, "ws");
}

async function signedUrl(agentId: string): Promise<string> {
  try {
    const body = await unwrap(api.GET("/v1/convai/conversation/get-signed-url", { params: { query: { agent_id: agentId } } }));
    return body.signed_url;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      throw new Error("This agent is private and your role may not start conversations with it: ask an admin for a role that may.");
    }
    throw error;
  }
}

/** One test conversation with an agent: start (voice or text), the lines and latencies as they come, mute, send, end. */
export function useTestConversation(agentId: string, isPrivate: boolean, open: OpenSession = openWithClient) {
  const [state, dispatch] = useReducer(testReducer, IDLE);
  const [muted, setMuted] = useState(false);
  const session = useRef<TestSession | null>(null);
  const serverError = useRef<string | null>(null);

  const start = useCallback(
    async (mode: Mode) => {
      dispatch({ kind: "connecting", mode });
      setMuted(false);
      serverError.current = null;
      try {
        const where = isPrivate ? { signedUrl: await signedUrl(agentId) } : { agentId, origin: socketOrigin() };
        const opened = await open({
          ...where,
          connectionType: "websocket",
          textOnly: mode === "text",
          libsampleratePath: LIBSAMPLERATE_PATH,
          onConnect: ({ conversationId }) => dispatch({ kind: "connected", conversationId }),
          onMessage: ({ source, message }) => dispatch({ kind: "line", speaker: source === "user" ? "user" : "agent", text: message }),
          onModeChange: ({ mode: now }) => dispatch({ kind: "speaking", speaking: now === "speaking" }),
          onIncomingEvent: (event) => {
            const latency = turnLatencyOf(event);
            if (latency) dispatch({ kind: "latency", latency });
          },
          onError: (message) => {
            serverError.current = message.replace(/^Server error: /, "");
          },
          onDisconnect: (details) => {
            session.current = null;
            dispatch({ kind: "ended", because: endReason(details as { reason: string; message?: string; closeReason?: string }) });
          },
        });
        session.current = opened;
        dispatch({ kind: "connected", conversationId: opened.getId() });
      } catch (error) {
        session.current = null;
        dispatch({ kind: "failed", message: startFailure(error, serverError.current) });
      }
    },
    [agentId, isPrivate, open],
  );

  const end = useCallback(async () => {
    const current = session.current;
    session.current = null;
    if (current) await current.endSession();
    dispatch({ kind: "ended", because: null });
  }, []);

  const toggleMute = useCallback(() => {
    setMuted((was) => {
      session.current?.setMicMuted(!was);
      return !was;
    });
  }, []);

  const send = useCallback((text: string) => {
    const current = session.current;
    if (!current || !text.trim()) return;
    current.sendUserMessage(text);
    // The server does not echo a typed message back as a transcript: it is shown as sent.
    dispatch({ kind: "line", speaker: "user", text });
  }, []);

  const inputVolume = useCallback(() => session.current?.getInputVolume() ?? 0, []);

  useEffect(() => () => void session.current?.endSession(), []);

  return { state, muted, start, end, toggleMute, send, inputVolume };
}
