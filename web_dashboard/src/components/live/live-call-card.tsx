"use client";

import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Badge, Card, type BadgeTone } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/dialog";
import { formatMs } from "@/lib/analytics-figures";
import { humanize } from "@/lib/call-filters";
import { cn } from "@/lib/cn";
import { formatClock } from "@/lib/format";
import { elapsed, STATE_LABELS, turnLatencies, type CallState, type LiveCallView } from "@/lib/live-calls";

const STATE_TONE: Record<CallState, BadgeTone> = {
  connecting: "neutral",
  listening: "accent",
  answering: "success",
  interrupted: "warning",
  ending: "danger",
};
const CHANNELS: Record<string, string> = { twilio: "Phone (Twilio)", sip: "Phone (SIP)", websocket: "Web/app" };
// How a line came about, when not simply spoken (app/engine/record.py TurnRecord.source).
const SOURCES: Record<string, string> = { text: "typed", dtmf: "keypad", reprompt: "re-prompt", greeting: "greeting", fallback: "fallback reply" };

/** One call in progress: who, how long, what it is doing, its transcript as it comes, and End call. */
export function LiveCallCard({ call, agentName, now, canEnd, ending, onEnding }: {
  call: LiveCallView;
  agentName: string;
  now: number;
  canEnd: boolean;
  ending: boolean;
  onEnding: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const end = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/calls/live/{conversation_id}/end", { params: { path: { conversation_id: call.id } } })),
    onSuccess: () => {
      setConfirming(false);
      onEnding();
    },
  });
  const state: CallState = ending ? "ending" : call.state;
  const title = `${agentName} · ${call.from || "unknown caller"}`;
  const ends = [call.from, call.to].filter(Boolean).join(" → ");
  return (
    <Card className="flex min-w-0 flex-col p-4" aria-label={`Call ${title}`} role="article">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="truncate text-base font-semibold text-ink">{agentName}</h2>
          <p className="mt-0.5 text-sm text-muted">
            {CHANNELS[call.channel] ?? humanize(call.channel || "unknown")}
            {call.direction ? ` · ${humanize(call.direction)}` : ""}
            {ends ? ` · ${ends}` : ""}
          </p>
        </div>
        <div className="flex items-center gap-2">
          <span className="font-mono text-sm tabular-nums text-ink">
            <span className="sr-only">Running for </span>
            {elapsed(call.startedAt, now)}
          </span>
          <Badge tone={STATE_TONE[state]}>{STATE_LABELS[state]}</Badge>
        </div>
      </div>
      <Transcript call={call} />
      <div className="mt-3 flex flex-wrap items-center justify-between gap-2 text-xs text-muted">
        <span>{call.lastEvent ? `Last event: ${humanize(call.lastEvent)}` : "No event yet"}</span>
        {canEnd ? (
          <Button variant="danger" size="sm" disabled={ending} onClick={() => setConfirming(true)}>
            {ending ? "Ending…" : "End call"}
          </Button>
        ) : null}
      </div>
      <ConfirmDialog
        open={confirming}
        onOpenChange={(open) => {
          setConfirming(open);
          if (!open) end.reset();
        }}
        title="End this call?"
        description={`The ${agentName} call with ${call.from || "this caller"} is hung up now, and saved as ended by a supervisor. This cannot be undone.`}
        confirmLabel={end.isPending ? "Ending…" : "End call"}
        busy={end.isPending}
        error={end.error ? errorMessage(end.error) : null}
        onConfirm={() => end.mutate()}
      />
    </Card>
  );
}

function Transcript({ call }: { call: LiveCallView }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [call.turns.length]);
  return (
    <div
      ref={box}
      role="log"
      aria-live="polite"
      aria-label={`Transcript, ${call.from || call.id}`}
      tabIndex={0}
      className="mt-3 max-h-72 min-h-24 overflow-y-auto rounded-md border border-line bg-canvas/60 p-3"
    >
      {call.turns.length === 0 ? (
        <p className="text-sm text-muted">Lines appear here as they are spoken.</p>
      ) : (
        <ol className="space-y-2">
        {call.turns.map((turn, index) => {
          const latencies = turnLatencies(turn);
          return (
            <li key={index} className={cn("flex flex-col", turn.role === "agent" ? "items-start" : "items-end")}>
              <div
                className={cn(
                  "max-w-[85%] rounded-lg px-3 py-1.5 text-sm",
                  turn.role === "agent" ? "bg-subtle text-ink" : "bg-accent/15 text-ink",
                )}
              >
                <span className="sr-only">{turn.role === "agent" ? "Agent" : "Caller"}: </span>
                {turn.message || <em className="text-muted">(nothing heard)</em>}
                {turn.interrupted ? <span className="ml-1 text-xs font-medium text-warning">(cut off)</span> : null}
              </div>
              <p className="mt-0.5 text-[11px] text-muted">
                {turn.role === "agent" ? "Agent" : "Caller"} · {formatClock(turn.atMs / 1000)}
                {turn.source && turn.source !== "voice" ? ` · ${SOURCES[turn.source] ?? turn.source}` : ""}
                {latencies.map((item) => ` · ${item.label} ${formatMs(item.ms)}`).join("")}
              </p>
            </li>
          );
        })}
        </ol>
      )}
    </div>
  );
}
