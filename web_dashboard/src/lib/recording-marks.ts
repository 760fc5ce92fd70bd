/**
 * What the call page marks on the recording's timeline: where the caller cut the agent off
 * (the engine's `barge_in` and `late_interruption` events, or, for a call logged without them,
 * the line after each interrupted agent line) and the caller's backchannels ("mm-hm" while the
 * agent spoke: `backchannel` events).
 */

export type MarkKind = "interruption" | "backchannel";

export interface TimelineMark {
  kind: MarkKind;
  seconds: number;
  /** What was said, when the event tells. */
  text: string | null;
}

interface Line {
  time_in_call_secs: number;
  interrupted: boolean;
  role: string;
}

/** An event as the API lists it (`{kind, at_ms, data}`, typed loosely by the schema). */
type LoggedEvent = Record<string, unknown>;

const INTERRUPTIONS = new Set(["barge_in", "late_interruption"]);

export function timelineMarks(transcript: Line[], events: LoggedEvent[]): TimelineMark[] {
  const marks: TimelineMark[] = [];
  for (const event of events) {
    const { kind, at_ms: at, data } = event;
    if (typeof at !== "number" || typeof kind !== "string") continue;
    const said = typeof data === "object" && data !== null ? (data as Record<string, unknown>).text : null;
    const text = typeof said === "string" ? said : null;
    if (INTERRUPTIONS.has(kind)) marks.push({ kind: "interruption", seconds: at / 1000, text });
    else if (kind === "backchannel") marks.push({ kind: "backchannel", seconds: at / 1000, text });
  }
  if (!marks.some((mark) => mark.kind === "interruption")) {
    transcript.forEach((line, index) => {
      if (line.role !== "agent" || !line.interrupted) return;
      const next = transcript[index + 1];
      marks.push({ kind: "interruption", seconds: next ? next.time_in_call_secs : line.time_in_call_secs, text: null });
    });
  }
  return marks.sort((a, b) => a.seconds - b.seconds);
}

/** A theme colour (a `--name: r g b` variable) as a colour a canvas can paint with. */
export function themeColour(name: string, alpha = 1): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim();
  const [r, g, b] = value.split(/\s+/);
  return r && g && b ? `rgba(${r}, ${g}, ${b}, ${alpha})` : `rgba(128, 128, 128, ${alpha})`;
}
