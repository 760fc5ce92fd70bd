/**
 * The Analytics page's period: a preset (the last 7, 30 or 90 days) or two days picked, in a
 * time zone (the browser's unless chosen), kept in the URL (`?range=30d&tz=Europe/Paris`,
 * `?from=2026-03-01&to=2026-03-07&tz=UTC`), and as the API takes it: days for
 * `/v1/analytics/daily`, the instants those days begin and end for the other figures.
 */

export const PRESETS = [
  { id: "7d", label: "Last 7 days", days: 7 },
  { id: "30d", label: "Last 30 days", days: 30 },
  { id: "90d", label: "Last 90 days", days: 90 },
] as const;
export type PresetId = (typeof PRESETS)[number]["id"];
export const DEFAULT_PRESET: PresetId = "30d";
/** The API's longest daily series (app/api/analytics.py, MAX_DAYS). */
export const MAX_DAYS = 366;

export interface AnalyticsRange {
  /** A preset, or "custom" for two days picked. */
  preset: PresetId | "custom";
  /** First and last day, YYYY-MM-DD, both included, in `timeZone`. */
  from: string;
  to: string;
  timeZone: string;
}

const DAY_MS = 86_400_000;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isTimeZone(name: string): boolean {
  if (!name) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function browserTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && isTimeZone(zone) ? zone : "UTC";
}

/** Every IANA zone this browser knows, the viewer's own included. */
export function timeZones(own: string): string[] {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return Array.from(new Set(["UTC", own, ...known])).sort();
}

function parts(instant: number, timeZone: string): Record<string, number> {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const out: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(instant))) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  return out;
}

/** The day it is at `instant` in `timeZone`, YYYY-MM-DD. */
export function dayIn(timeZone: string, instant: number = Date.now()): string {
  const p = parts(instant, timeZone);
  return `${String(p.year).padStart(4, "0")}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in milliseconds. */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  const p = parts(instant, timeZone);
  const wall = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return wall - Math.floor(instant / 1000) * 1000;
}

function dayUtcMs(day: string): number {
  const match = ISO_DAY.exec(day);
  if (!match) throw new RangeError(`not a day: ${day}`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

export function isDay(text: string | null | undefined): text is string {
  if (!text || !ISO_DAY.test(text)) return false;
  return new Date(dayUtcMs(text)).toISOString().slice(0, 10) === text;
}

export function addDays(day: string, days: number): string {
  return new Date(dayUtcMs(day) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both included. */
export function dayCount(from: string, to: string): number {
  return Math.round((dayUtcMs(to) - dayUtcMs(from)) / DAY_MS) + 1;
}

/**
 * The Unix second `day` begins in `timeZone`: its local midnight (or, when a clock change
 * skips midnight, the first instant after it), as the API places its days.
 */
export function dayStartUnix(day: string, timeZone: string): number {
  const midnight = dayUtcMs(day);
  let guess = midnight - zoneOffsetMs(midnight, timeZone);
  guess = midnight - zoneOffsetMs(guess, timeZone);
  // Midnight did not exist (the clock jumped past it): read with the offset before the jump,
  // it lands where the day begins (as Python places it, app/db/analytics.py day_starts).
  if (dayIn(timeZone, guess) !== day) guess = midnight - zoneOffsetMs(guess - DAY_MS / 2, timeZone);
  return Math.floor(guess / 1000);
}

export function presetRange(preset: PresetId, timeZone: string, now: number = Date.now()): AnalyticsRange {
  const days = PRESETS.find((item) => item.id === preset)?.days ?? 30;
  const to = dayIn(timeZone, now);
  return { preset, from: addDays(to, 1 - days), to, timeZone };
}

/** Why two days picked cannot be a period; null when they can. */
export function rangeProblem(from: string, to: string): string | null {
  if (!isDay(from) || !isDay(to)) return "Pick both a first and a last day.";
  if (from > to) return "The first day comes after the last day: swap them.";
  if (dayCount(from, to) > MAX_DAYS) return `Pick at most ${MAX_DAYS} days.`;
  return null;
}

/** The range a URL asks for; what it asks wrongly falls back to the defaults, with why. */
export function rangeFromUrl(
  params: URLSearchParams,
  ownZone: string,
  now: number = Date.now(),
): { range: AnalyticsRange; problem: string | null } {
  const asked = params.get("tz");
  const zoneOk = !asked || isTimeZone(asked);
  const timeZone = asked && zoneOk ? asked : ownZone;
  const zoneProblem = zoneOk ? null : `"${asked}" is not a time zone; showing ${ownZone}.`;
  const from = params.get("from");
  const to = params.get("to");
  if (from || to) {
    const problem = rangeProblem(from ?? "", to ?? "");
    if (!problem) return { range: { preset: "custom", from: from ?? "", to: to ?? "", timeZone }, problem: zoneProblem };
    return { range: presetRange(DEFAULT_PRESET, timeZone, now), problem: `${problem} Showing the last 30 days.` };
  }
  const preset = PRESETS.find((item) => item.id === params.get("range"))?.id ?? DEFAULT_PRESET;
  return { range: presetRange(preset, timeZone, now), problem: zoneProblem };
}

/** The URL's query for a range: a preset by name (so a shared link stays "the last 30 days"). */
export function rangeToUrl(range: AnalyticsRange, ownZone: string): string {
  const params = new URLSearchParams();
  if (range.preset === "custom") {
    params.set("from", range.from);
    params.set("to", range.to);
  } else if (range.preset !== DEFAULT_PRESET) {
    params.set("range", range.preset);
  }
  if (range.timeZone !== ownZone) params.set("tz", range.timeZone);
  return params.toString();
}

/** The API's parameters for a range: the period's instants, and its days for the daily series. */
export function rangeQueries(range: AnalyticsRange) {
  return {
    period: {
      call_start_after_unix: dayStartUnix(range.from, range.timeZone),
      call_start_before_unix: dayStartUnix(addDays(range.to, 1), range.timeZone),
    },
    daily: { start_date: range.from, end_date: range.to, time_zone: range.timeZone },
  };
}

const LABEL = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
const LONG = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" });

/** A day as a chart's axis shows it: "Mar 7". */
export function shortDay(day: string): string {
  return LABEL.format(new Date(dayUtcMs(day)));
}

/** A day as a sentence says it: "Mar 7, 2026". */
export function longDay(day: string): string {
  return LONG.format(new Date(dayUtcMs(day)));
}
