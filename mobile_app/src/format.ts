/** Words and times as the app shows them. */

import type { FieldOutcome, Lead } from "./api";

export const FIELD_OUTCOMES: { value: FieldOutcome; label: string }[] = [
  { value: "meeting_booked", label: "Meeting booked" },
  { value: "interested", label: "Interested" },
  { value: "call_back", label: "Call back" },
  { value: "not_interested", label: "Not interested" },
  { value: "wrong_number", label: "Wrong number" },
  { value: "do_not_call", label: "Do not call" },
  { value: "completed", label: "Completed" },
];

const OUTCOME_WORDS: Record<string, string> = {
  ...Object.fromEntries(FIELD_OUTCOMES.map((o) => [o.value, o.label])),
  no_answer: "No answer",
  busy: "Busy",
  voicemail: "Voicemail",
  failed: "Call failed",
};

export function outcomeLabel(outcome: string | null | undefined): string {
  if (!outcome) return "";
  return OUTCOME_WORDS[outcome] ?? outcome.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** The tone of an outcome's chip: good news, bad news, or neither. */
export function outcomeTone(outcome: string | null | undefined): "good" | "bad" | "neutral" {
  if (outcome === "meeting_booked" || outcome === "interested" || outcome === "completed") return "good";
  if (outcome === "not_interested" || outcome === "wrong_number" || outcome === "do_not_call" || outcome === "failed")
    return "bad";
  return "neutral";
}

/** What a person is called: the leads file's name columns, else their number. */
export function leadName(lead: Lead): string {
  const v = lead.variables;
  const text = (key: string): string => (typeof v[key] === "string" ? (v[key] as string).trim() : "");
  const full = text("name") || text("full_name") || [text("first_name"), text("last_name")].filter(Boolean).join(" ");
  return full || lead.phone_number;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "14:05" today, "Tue 3 Jun, 14:05" on another day. */
export function when(date: Date, now = new Date()): string {
  return sameDay(date, now) ? `today ${timeOnly.format(date)}` : dayAndTime.format(date);
}

export function fromUnix(seconds: number): Date {
  return new Date(seconds * 1000);
}

/** "due 20 min ago", "due in 2 h", for a call back. */
export function dueLabel(due: Date, now = new Date()): string {
  const minutes = Math.round((due.getTime() - now.getTime()) / 60000);
  const span = (m: number): string => (m < 60 ? `${m} min` : m < 48 * 60 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} days`);
  if (Math.abs(minutes) < 1) return "due now";
  return minutes < 0 ? `due ${span(-minutes)} ago` : `due in ${span(minutes)}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return "";
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A collected value as text (the analysis may collect numbers, booleans, lists). */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export function keyLabel(key: string): string {
  return key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** A `datetime-local` input's value as Unix seconds (local time), or null when empty. */
export function localInputToUnix(value: string): number | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : Math.floor(date.getTime() / 1000);
}

/** A date as a `datetime-local` input's value, in local time. */
export function unixToLocalInput(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A level (RMS, 0..1) on the meter's 0..100 scale: -60 dBFS and below is 0, 0 dBFS is 100. */
export function meterValue(rms: number): number {
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.max(0, Math.min(100, Math.round(((db + 60) / 60) * 100)));
}
