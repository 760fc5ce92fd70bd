"use client";

import Link from "next/link";
import { useEffect, useRef, useState, type FormEvent } from "react";

import { Button } from "@/components/ui/button";
import { Alert, Badge } from "@/components/ui/card";
import { Input } from "@/components/ui/field";
import { cn } from "@/lib/cn";
import { formatLatency, type TestLine, type TurnLatency } from "@/lib/test-conversation";

import { MicMeter } from "./mic-meter";
import { openWithClient, useTestConversation, type OpenSession } from "./use-test-conversation";

/**
 * Talk to the saved agent from the browser (`@elevenlabs/client` over the Velox socket), by
 * voice or by text, with the transcript, each exchange's latency and the microphone's level.
 */
export function TestPanel({ agentId, isPrivate, unsaved, open = openWithClient }: { agentId: string; isPrivate: boolean; unsaved: boolean; open?: OpenSession }) {
  const { state, muted, start, end, toggleMute, send, inputVolume } = useTestConversation(agentId, isPrivate, open);
  const live = state.phase === "connecting" || state.phase === "connected";
  const voice = state.mode === "voice";

  return (
    <section id="test" aria-labelledby="test-title" className="scroll-mt-24 rounded-lg border border-line bg-surface shadow-sm">
      <header className="flex flex-wrap items-start justify-between gap-3 border-b border-line px-6 py-4">
        <div>
          <h2 id="test-title" className="text-base font-semibold text-ink">
            Test
          </h2>
          <p className="mt-0.5 text-sm text-muted">Talk to the saved agent from this browser{isPrivate ? " (private: through a signed URL)" : ""}, or chat with it in text.</p>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          {live ? (
            <>
              {voice && state.phase === "connected" ? (
                <>
                  <MicMeter read={inputVolume} muted={muted} />
                  <Button variant="secondary" size="sm" aria-pressed={muted} onClick={toggleMute}>
                    {muted ? "Unmute" : "Mute"}
                  </Button>
                </>
              ) : null}
              <Button variant="danger" size="sm" busy={state.phase === "connecting"} onClick={() => void end()}>
                End
              </Button>
            </>
          ) : (
            <>
              <Button size="sm" onClick={() => void start("voice")}>
                Start voice test
              </Button>
              <Button variant="secondary" size="sm" onClick={() => void start("text")}>
                Start text chat
              </Button>
            </>
          )}
        </div>
      </header>
      <div className="space-y-3 px-6 py-4">
        {unsaved ? <p className="text-xs text-warning">This tests the saved agent: unsaved changes are not in it.</p> : null}
        {state.error ? <Alert title="The test could not go on">{state.error}</Alert> : null}
        <Status state={state} />
        <Transcript lines={state.lines} agentSpeaking={state.agentSpeaking} />
        {live && !voice ? <ChatBox disabled={state.phase !== "connected"} onSend={send} /> : null}
      </div>
    </section>
  );
}

function Status({ state }: { state: ReturnType<typeof useTestConversation>["state"] }) {
  if (state.phase === "idle" && !state.error) {
    return <p className="text-sm text-muted">Nothing said yet. A voice test asks for the microphone.</p>;
  }
  return (
    <p role="status" className="flex flex-wrap items-center gap-2 text-sm text-ink">
      {state.phase === "connecting" ? <Badge tone="accent">Connecting…</Badge> : null}
      {state.phase === "connected" ? <Badge tone="success">{state.mode === "voice" ? "Live: speak now" : "Live: type below"}</Badge> : null}
      {state.phase === "ended" ? <Badge>Ended</Badge> : null}
      {state.conversationId ? (
        <span className="text-xs text-muted">
          Conversation <span className="font-mono">{state.conversationId}</span>
          {state.phase === "ended" ? (
            <>
              {" · "}
              <Link href={`/calls/view/?id=${encodeURIComponent(state.conversationId)}`} className="font-medium text-accent underline">
                Open its call page
              </Link>
            </>
          ) : null}
        </span>
      ) : null}
      {state.endedBecause ? <span className="text-xs text-muted">{state.endedBecause}</span> : null}
    </p>
  );
}

function Transcript({ lines, agentSpeaking }: { lines: TestLine[]; agentSpeaking: boolean }) {
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    // A block body: Chromium's scrollIntoView returns a promise, which React would take for a cleanup.
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [lines.length]);
  if (lines.length === 0) return null;
  return (
    <ol aria-label="Test transcript" aria-live="polite" className="max-h-80 space-y-2 overflow-y-auto rounded-md border border-line bg-canvas p-3">
      {lines.map((line, index) => (
        <li key={index} ref={index === lines.length - 1 ? end : undefined} className={cn("text-sm", line.speaker === "agent" && "pl-4")}>
          <span className={cn("mr-2 text-xs font-semibold", line.speaker === "user" ? "text-ink" : "text-accent")}>{line.speaker === "user" ? "You" : "Agent"}</span>
          <span className="text-ink">{line.text}</span>
          {line.latency ? <LatencyNote latency={line.latency} /> : null}
        </li>
      ))}
      {agentSpeaking ? <li className="pl-4 text-xs text-muted">Agent speaking…</li> : null}
    </ol>
  );
}

function LatencyNote({ latency }: { latency: TurnLatency }) {
  const parts = [
    ["end of turn", latency.endOfSpeechToEndpointMs],
    ["STT final", latency.sttFinalMs],
    ["LLM first token", latency.llmFirstTokenMs],
    ["TTS first byte", latency.ttsFirstByteMs],
  ] as const;
  return (
    <span className="mt-0.5 block text-xs text-muted" data-testid="turn-latency">
      Answered in <span className="font-semibold tabular-nums text-ink">{formatLatency(latency.voiceToVoiceMs)}</span> voice to voice
      {" ("}
      {parts
        .filter(([, ms]) => ms !== null)
        .map(([label, ms]) => `${label} ${formatLatency(ms)}`)
        .join(", ")}
      {")"}
      {latency.interrupted ? " · you cut in" : ""}
    </span>
  );
}

function ChatBox({ disabled, onSend }: { disabled: boolean; onSend: (text: string) => void }) {
  const [text, setText] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    onSend(text.trim());
    setText("");
  };
  return (
    <form onSubmit={submit} className="flex gap-2">
      <label htmlFor="test-chat-message" className="sr-only">
        Message to the agent
      </label>
      <Input id="test-chat-message" value={text} onChange={(event) => setText(event.target.value)} placeholder="Type a message" autoComplete="off" disabled={disabled} />
      <Button type="submit" disabled={disabled || !text.trim()}>
        Send
      </Button>
    </form>
  );
}
