"use client";

import { useEffect, useRef, useState } from "react";

import { reconnectDelayMs } from "./live-calls";

/** The moments the server names (`event:` lines of `GET /v1/calls/live/events`). */
export const MOMENT_TYPES = ["call_started", "turn", "event", "user_turn_withdrawn", "call_ended"] as const;
export const LIVE_EVENTS_URL = "/v1/calls/live/events";

export type StreamStatus =
  | { kind: "connecting" }
  | { kind: "open" }
  /** Dropped; the next attempt at `retryAt` (ms since epoch), after `failures` in a row. */
  | { kind: "reconnecting"; retryAt: number; failures: number };

/**
 * The live moments as they come (an `EventSource`, the session cookie sent with it). When the
 * stream drops it is closed and opened again after a growing pause (1 s, 2 s, 4 s… 30 s);
 * `onOpen` runs on every (re)connection, so the caller can catch up on what it missed.
 */
export function useLiveStream(onMoment: (moment: Record<string, unknown>) => void, onOpen: () => void, url: string = LIVE_EVENTS_URL): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>({ kind: "connecting" });
  const handlers = useRef({ onMoment, onOpen });
  handlers.current = { onMoment, onOpen };

  useEffect(() => {
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let stopped = false;

    const connect = () => {
      if (stopped) return;
      source = new EventSource(url, { withCredentials: true });
      source.onopen = () => {
        failures = 0;
        setStatus({ kind: "open" });
        handlers.current.onOpen();
      };
      for (const type of MOMENT_TYPES) {
        source.addEventListener(type, (event) => {
          try {
            const moment: unknown = JSON.parse((event as MessageEvent<string>).data);
            if (typeof moment === "object" && moment !== null) handlers.current.onMoment(moment as Record<string, unknown>);
          } catch {
            // A moment that is not JSON is skipped; the next one carries on.
          }
        });
      }
      source.onerror = () => {
        source?.close();
        source = null;
        failures += 1;
        const delay = reconnectDelayMs(failures);
        setStatus({ kind: "reconnecting", retryAt: Date.now() + delay, failures });
        timer = setTimeout(connect, delay);
      };
    };
    connect();
    return () => {
      stopped = true;
      source?.close();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [url]);

  return status;
}
