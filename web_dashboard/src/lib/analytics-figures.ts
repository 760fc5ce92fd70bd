/**
 * The API's analytics (`/v1/analytics/…`) shaped for charts and their tables: one row per day,
 * splits (outcomes, sentiments) ordered for reading, per-campaign rows and a campaign's funnel,
 * and the numbers written as people read them.
 */
import type { Schemas } from "@/api/client";

import { humanize } from "./call-filters";
import { longDay, shortDay } from "./analytics-range";

export type Summary = Schemas["SummaryBody"];
export type Daily = Schemas["DailyBody"];
export type Day = Schemas["DayBody"];
export type AgentFigures = Schemas["AgentBody"];
export type Funnel = Schemas["FunnelBody"];
export type Campaign = Schemas["CampaignResponse"];

export interface DayRow {
  date: string;
  label: string;
  calls: number;
  minutes: number;
  /** Percent, 0–100; null: no call of the day was judged. */
  successRate: number | null;
  p50: number | null;
  p95: number | null;
  interruptions: number | null;
}

export function dayRows(daily: Daily | undefined): DayRow[] {
  return (daily?.days ?? []).map((day) => ({
    date: day.date,
    label: shortDay(day.date),
    calls: day.calls,
    minutes: day.minutes,
    successRate: day.success_rate === null ? null : Math.round(day.success_rate * 1000) / 10,
    p50: day.voice_to_voice_p50_ms,
    p95: day.voice_to_voice_p95_ms,
    interruptions: day.interruptions_per_call,
  }));
}

export interface SplitRow {
  key: string;
  label: string;
  count: number;
  /** Of all the calls split, 0–100. */
  share: number;
}

export const SENTIMENT_ORDER = ["positive", "neutral", "negative", "unknown"] as const;

/**
 * A split of calls (`{"completed": 4, "unknown": 2}`) as rows: the busiest first, "unknown"
 * (nothing known yet) last; or in `order` when given, keys outside it after.
 */
export function splitRows(split: Record<string, number> | undefined, order?: readonly string[]): SplitRow[] {
  const entries = Object.entries(split ?? {}).filter(([, count]) => count > 0);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  const rank = (key: string) => {
    const at = order?.indexOf(key) ?? -1;
    return at === -1 ? (order?.length ?? 0) : at;
  };
  entries.sort(([a, x], [b, y]) => {
    if (order) return rank(a) - rank(b) || y - x || a.localeCompare(b);
    if ((a === "unknown") !== (b === "unknown")) return a === "unknown" ? 1 : -1;
    return y - x || a.localeCompare(b);
  });
  return entries.map(([key, count]) => ({
    key,
    label: key === "unknown" ? "Not known yet" : humanize(key),
    count,
    share: total ? Math.round((count / total) * 1000) / 10 : 0,
  }));
}

export interface FunnelRow {
  stage: string;
  count: number;
  /** Of the campaign's leads, 0–100. */
  share: number;
}

export function funnelRows(funnel: Funnel | undefined): FunnelRow[] {
  if (!funnel) return [];
  const of = (count: number) => (funnel.leads ? Math.round((count / funnel.leads) * 1000) / 10 : 0);
  return [
    { stage: "Leads", count: funnel.leads, share: funnel.leads ? 100 : 0 },
    { stage: "Dialed", count: funnel.dialed, share: of(funnel.dialed) },
    { stage: "Answered", count: funnel.answered, share: of(funnel.answered) },
    { stage: "Reached a person", count: funnel.human, share: of(funnel.human) },
  ];
}

export interface CampaignRow {
  campaign: Campaign;
  figures: Summary | undefined;
}

/** Campaigns with their figures for the period: those with calls first, the busiest first. */
export function campaignRows(campaigns: readonly Campaign[], figures: ReadonlyMap<string, Summary>): CampaignRow[] {
  return campaigns
    .map((campaign) => ({ campaign, figures: figures.get(campaign.campaign_id) }))
    .sort((a, b) => (b.figures?.calls ?? -1) - (a.figures?.calls ?? -1) || a.campaign.name.localeCompare(b.campaign.name));
}

// --- numbers as people read them ------------------------------------------------------------

const WHOLE = new Intl.NumberFormat("en-US");
const ONE_PLACE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const TWO_PLACES = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

export function formatCount(value: number): string {
  return WHOLE.format(value);
}

export function formatMinutes(value: number): string {
  return `${ONE_PLACE.format(value)} min`;
}

/** A 0–1 rate as a percent; "—" when there is nothing to compute it from. */
export function formatRate(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${ONE_PLACE.format(value * 100)}%`;
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${ONE_PLACE.format(value)}%`;
}

/** Milliseconds: "850 ms" under a second, "1.24 s" from one. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value < 1000 ? `${Math.round(value)} ms` : `${TWO_PLACES.format(value / 1000)} s`;
}

export function formatSeconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const whole = Math.round(value);
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")} min`;
}

export function formatPerCall(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : TWO_PLACES.format(value);
}

// --- what each chart says, for those who cannot see it ----------------------------------------

function peak<K extends keyof DayRow>(rows: readonly DayRow[], key: K): DayRow | undefined {
  let best: DayRow | undefined;
  for (const row of rows) {
    const value = row[key];
    if (typeof value === "number" && (best === undefined || value > (best[key] as number))) best = row;
  }
  return best;
}

export function volumeSummary(rows: readonly DayRow[]): string {
  const calls = rows.reduce((sum, row) => sum + row.calls, 0);
  const minutes = rows.reduce((sum, row) => sum + row.minutes, 0);
  const busiest = peak(rows, "calls");
  const base = `${formatCount(calls)} calls, ${formatMinutes(minutes)}, over ${rows.length} days`;
  return busiest && busiest.calls > 0 ? `${base}; the busiest day ${longDay(busiest.date)} with ${formatCount(busiest.calls)} calls.` : `${base}.`;
}

export function latencySummary(rows: readonly DayRow[], summary: Summary | undefined): string {
  if (!summary?.voice_to_voice_turns) return "No turn was measured in this period.";
  const worst = peak(rows, "p95");
  const overall = `Over ${formatCount(summary.voice_to_voice_turns)} measured turns: p50 ${formatMs(summary.voice_to_voice_p50_ms)}, p95 ${formatMs(summary.voice_to_voice_p95_ms)}`;
  return worst ? `${overall}; the slowest day ${longDay(worst.date)} (p95 ${formatMs(worst.p95)}).` : `${overall}.`;
}

export function rateSummary(rows: readonly DayRow[], summary: Summary | undefined): string {
  const judged = rows.filter((row) => row.successRate !== null).length;
  if (!judged) return "No call in this period was judged a success or a failure.";
  return `Success rate ${formatRate(summary?.success_rate)} over the period; ${judged} of ${rows.length} days had judged calls.`;
}

export function interruptionSummary(rows: readonly DayRow[], summary: Summary | undefined): string {
  const worst = peak(rows, "interruptions");
  if (!summary?.calls || !worst) return "No calls in this period.";
  return `${formatPerCall(summary.interruptions_per_call)} interruptions per call over the period; the most on ${longDay(worst.date)} (${formatPerCall(worst.interruptions)} per call).`;
}

export function splitSummary(rows: readonly SplitRow[], what: string): string {
  if (rows.length === 0) return `No ${what} in this period.`;
  return rows.map((row) => `${row.label} ${formatCount(row.count)} (${formatPercent(row.share)})`).join(", ") + ".";
}

export function funnelSummary(rows: readonly FunnelRow[]): string {
  if (rows.length === 0) return "";
  return rows.map((row) => `${row.stage} ${formatCount(row.count)}${row.stage === "Leads" ? "" : ` (${formatPercent(row.share)})`}`).join(", ") + ".";
}
