import { describe, expect, it } from "vitest";

import {
  campaignRows,
  dayRows,
  formatMs,
  formatRate,
  funnelRows,
  funnelSummary,
  latencySummary,
  SENTIMENT_ORDER,
  splitRows,
  splitSummary,
  volumeSummary,
  type Campaign,
  type Day,
  type Summary,
} from "./analytics-figures";

function figures(over: Partial<Summary> = {}): Summary {
  return {
    call_start_after_unix: 0,
    call_start_before_unix: 1,
    calls: 0,
    minutes: 0,
    outcomes: {},
    sentiments: {},
    success_rate: null,
    average_duration_secs: null,
    p95_duration_secs: null,
    voice_to_voice_p50_ms: null,
    voice_to_voice_p95_ms: null,
    voice_to_voice_turns: 0,
    interruptions_per_call: null,
    transfers: 0,
    provider_failures: 0,
    ...over,
  };
}

function day(date: string, over: Partial<Summary> = {}): Day {
  const { call_start_after_unix: _a, call_start_before_unix: _b, ...rest } = figures(over);
  return { date, ...rest };
}

describe("the analytics figures, shaped for charts", () => {
  it("makes one row per day, rates in percent and days without calls left empty", () => {
    const rows = dayRows({
      time_zone: "UTC",
      start_date: "2026-03-01",
      end_date: "2026-03-02",
      days: [
        day("2026-03-01", { calls: 3, minutes: 4.5, success_rate: 0.6667, voice_to_voice_p50_ms: 900, voice_to_voice_p95_ms: 1320, interruptions_per_call: 0.333 }),
        day("2026-03-02"),
      ],
    });
    expect(rows).toEqual([
      { date: "2026-03-01", label: "Mar 1", calls: 3, minutes: 4.5, successRate: 66.7, p50: 900, p95: 1320, interruptions: 0.333 },
      { date: "2026-03-02", label: "Mar 2", calls: 0, minutes: 0, successRate: null, p50: null, p95: null, interruptions: null },
    ]);
    expect(volumeSummary(rows)).toBe("3 calls, 4.5 min, over 2 days; the busiest day Mar 1, 2026 with 3 calls.");
    expect(latencySummary(rows, figures({ voice_to_voice_turns: 5, voice_to_voice_p50_ms: 900, voice_to_voice_p95_ms: 1320 }))).toBe(
      "Over 5 measured turns: p50 900 ms, p95 1.32 s; the slowest day Mar 1, 2026 (p95 1.32 s).",
    );
    expect(latencySummary(rows, figures())).toBe("No turn was measured in this period.");
  });

  it("orders a split busiest first with what is not known yet last, or in the order given", () => {
    const outcomes = splitRows({ unknown: 5, busy: 1, meeting_booked: 3, call_back: 3, none: 0 });
    expect(outcomes.map((row) => [row.label, row.count, row.share])).toEqual([
      ["Call back", 3, 25],
      ["Meeting booked", 3, 25],
      ["Busy", 1, 8.3],
      ["Not known yet", 5, 41.7],
    ]);
    const sentiments = splitRows({ unknown: 1, negative: 2, positive: 1, mixed: 4 }, SENTIMENT_ORDER);
    expect(sentiments.map((row) => row.key)).toEqual(["positive", "negative", "unknown", "mixed"]);
    expect(splitSummary(sentiments.slice(0, 2), "sentiments")).toBe("Positive 1 (12.5%), Negative 2 (25%).");
    expect(splitSummary([], "outcomes")).toBe("No outcomes in this period.");
  });

  it("gives a campaign's funnel each stage's share of its leads", () => {
    const rows = funnelRows({ campaign_id: "c", leads: 8, dialed: 6, answered: 4, human: 3, outcomes: { meeting_booked: 1 } });
    expect(rows).toEqual([
      { stage: "Leads", count: 8, share: 100 },
      { stage: "Dialed", count: 6, share: 75 },
      { stage: "Answered", count: 4, share: 50 },
      { stage: "Reached a person", count: 3, share: 37.5 },
    ]);
    expect(funnelSummary(rows)).toBe("Leads 8, Dialed 6 (75%), Answered 4 (50%), Reached a person 3 (37.5%).");
    expect(funnelRows({ campaign_id: "c", leads: 0, dialed: 0, answered: 0, human: 0, outcomes: {} })[1]?.share).toBe(0);
  });

  it("puts the campaigns with the most calls first, those still loading last", () => {
    const campaign = (id: string, name: string) => ({ campaign_id: id, name }) as Campaign;
    const rows = campaignRows([campaign("a", "Alpha"), campaign("b", "Beta"), campaign("c", "Gamma")], new Map([["b", figures({ calls: 4 })], ["a", figures({ calls: 0 })]]));
    expect(rows.map((row) => row.campaign.name)).toEqual(["Beta", "Alpha", "Gamma"]);
  });

  it("writes numbers as people read them", () => {
    expect([formatMs(850.4), formatMs(1240), formatMs(null)]).toEqual(["850 ms", "1.24 s", "—"]);
    expect([formatRate(0.6667), formatRate(null)]).toEqual(["66.7%", "—"]);
  });
});
