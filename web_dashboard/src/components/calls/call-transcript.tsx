"use client";

import { useRef, useState } from "react";

import type { Schemas } from "@/api/client";
import { Badge } from "@/components/ui/card";
import { cn } from "@/lib/cn";
import { formatClock } from "@/lib/format";
import { timelineMarks } from "@/lib/recording-marks";

import { RecordingLanes } from "./recording-lanes";
import { ToolActivity } from "./tool-activity";

type Entry = Schemas["TranscriptEntry"];
type LoggedEvent = Schemas["ConversationResponse"]["velox"]["events"][number];

/** The line playing at `seconds`: the last one that began at or before it. */
export function playingLine(transcript: Entry[], seconds: number | null): number | null {
  if (seconds === null) return null;
  let playing: number | null = null;
  transcript.forEach((entry, index) => {
    if (entry.time_in_call_secs <= seconds) playing = index;
  });
  return playing;
}

/**
 * The transcript, and when the call was recorded the recording above it as two lanes (caller,
 * agent) over an `<audio>` element that streams `GET …/audio` (the session cookie authenticates
 * it; Range requests let it seek without downloading it all): a line seeks the player to its
 * time, and the line playing is highlighted.
 */
export function CallTranscript({ conversationId, transcript, hasAudio, events = [] }: { conversationId: string; transcript: Entry[]; hasAudio: boolean; events?: LoggedEvent[] }) {
  const player = useRef<HTMLAudioElement>(null);
  const [position, setPosition] = useState<number | null>(null);
  const playing = playingLine(transcript, position);

  const seek = (seconds: number) => {
    const audio = player.current;
    if (!audio) return;
    audio.currentTime = seconds;
    setPosition(seconds);
    void audio.play().catch(() => undefined); // a browser may refuse to autoplay; the seek stands
  };

  return (
    <div>
      {hasAudio ? (
        <div className="sticky top-0 z-10 border-b border-line bg-surface px-4 py-3">
          <audio
            ref={player}
            preload="metadata"
            aria-label="Call recording"
            className="hidden"
            src={`/v1/convai/conversations/${encodeURIComponent(conversationId)}/audio`}
            onTimeUpdate={(event) => setPosition(event.currentTarget.currentTime)}
            onSeeked={(event) => setPosition(event.currentTarget.currentTime)}
          />
          <RecordingLanes conversationId={conversationId} player={player} position={position} marks={timelineMarks(transcript, events)} onSeek={seek} />
          <p className="mt-1 text-xs text-muted">Caller: the left channel · agent: the right, what the caller heard. Choose a line or a mark to play from it.</p>
        </div>
      ) : null}
      {transcript.length === 0 ? (
        <p className="px-4 py-8 text-center text-sm text-muted">Nobody spoke on this call.</p>
      ) : (
        <ol aria-label="Transcript" className="divide-y divide-line">
          {transcript.map((entry, index) => (
            <TranscriptLine key={index} entry={entry} playing={index === playing} onSeek={hasAudio ? () => seek(entry.time_in_call_secs) : null} />
          ))}
        </ol>
      )}
    </div>
  );
}

function TranscriptLine({ entry, playing, onSeek }: { entry: Entry; playing: boolean; onSeek: (() => void) | null }) {
  const caller = entry.role === "user";
  const speaker = caller ? "Caller" : "Agent";
  const time = formatClock(entry.time_in_call_secs);
  // The line's button is named by what it shows (speaker, time, words) plus "(play from here)".
  const body = (
    <>
      <span className="flex items-center gap-2 text-xs">
        <span className={cn("font-semibold", caller ? "text-ink" : "text-accent")}>{speaker}</span>{" "}
        <span className="tabular-nums text-muted">{time}</span>{" "}
        {entry.interrupted ? <Badge tone="warning">Interrupted</Badge> : null}
        {entry.velox_source !== "voice" ? <Badge>{entry.velox_source === "dtmf" ? "Keypad" : entry.velox_source}</Badge> : null}
      </span>
      <span className={cn("mt-0.5 block text-sm text-ink", entry.interrupted && "text-ink/80")}>
        {entry.message}
        {entry.interrupted ? <span className="text-muted"> —</span> : null}
        {onSeek ? <span className="sr-only"> (play from here)</span> : null}
      </span>
    </>
  );
  return (
    // The playing line's bar is an inset shadow: the list's dividers set every border's colour.
    <li aria-current={playing ? "true" : undefined} className={cn(playing ? "bg-accent/10 shadow-[inset_4px_0_0_0_rgb(var(--accent))]" : !caller && "bg-subtle/40")}>
      {onSeek ? (
        <button type="button" onClick={onSeek} title={`Play from ${time}`} className={cn("block w-full px-5 py-2.5 text-left focus-visible:outline focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-accent", !playing && "hover:bg-subtle")}>
          {body}
        </button>
      ) : (
        <div className="px-5 py-2.5">{body}</div>
      )}
      {entry.tool_calls && entry.tool_calls.length > 0 ? (
        <div className="px-5 pb-2.5">
          <ToolActivity calls={entry.tool_calls} results={entry.tool_results ?? []} />
        </div>
      ) : null}
    </li>
  );
}
