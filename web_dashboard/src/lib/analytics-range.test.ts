import { describe, expect, it } from "vitest";

import { addDays, dayCount, dayIn, dayStartUnix, isDay, presetRange, rangeFromUrl, rangeProblem, rangeQueries, rangeToUrl } from "./analytics-range";

// 2026-03-07 22:30 UTC: already Mar 8 in Tokyo, still Mar 7 in New York.
const NOW = Date.UTC(2026, 2, 7, 22, 30);

describe("the analytics period", () => {
  it("starts a day at midnight in the time zone named", () => {
    expect(dayStartUnix("2026-03-03", "UTC")).toBe(Date.UTC(2026, 2, 3) / 1000);
    expect(dayStartUnix("2026-03-03", "Europe/Paris")).toBe(Date.UTC(2026, 2, 2, 23) / 1000);
    expect(dayStartUnix("2026-07-03", "Europe/Paris")).toBe(Date.UTC(2026, 6, 2, 22) / 1000);
    expect(dayStartUnix("2026-03-03", "Asia/Kolkata")).toBe(Date.UTC(2026, 2, 2, 18, 30) / 1000);
  });

  it("gives a day of a clock change its own length", () => {
    // New York springs forward at 02:00 on 8 March 2026: that day has 23 hours.
    const start = dayStartUnix("2026-03-08", "America/New_York");
    expect(start).toBe(Date.UTC(2026, 2, 8, 5) / 1000);
    expect(dayStartUnix("2026-03-09", "America/New_York") - start).toBe(23 * 3600);
  });

  it("starts a day whose midnight the clock skips at its first instant", () => {
    // Havana jumps from 00:00 to 01:00 on 8 March 2026.
    const start = dayStartUnix("2026-03-08", "America/Havana");
    expect(dayIn("America/Havana", start * 1000)).toBe("2026-03-08");
    expect(dayIn("America/Havana", start * 1000 - 1000)).toBe("2026-03-07");
  });

  it("counts presets back from today in the zone chosen", () => {
    expect(presetRange("7d", "America/New_York", NOW)).toEqual({ preset: "7d", from: "2026-03-01", to: "2026-03-07", timeZone: "America/New_York" });
    expect(presetRange("7d", "Asia/Tokyo", NOW)).toMatchObject({ from: "2026-03-02", to: "2026-03-08" });
    expect(dayCount(presetRange("90d", "UTC", NOW).from, "2026-03-07")).toBe(90);
  });

  it("reads and writes the URL: a preset by name, days picked, a zone other than the browser's", () => {
    const own = "Europe/Paris";
    const fromUrl = (query: string) => rangeFromUrl(new URLSearchParams(query), own, NOW);

    expect(fromUrl("")).toEqual({ range: { preset: "30d", from: "2026-02-06", to: "2026-03-07", timeZone: own }, problem: null });
    expect(fromUrl("range=7d&tz=Asia/Tokyo").range).toEqual({ preset: "7d", from: "2026-03-02", to: "2026-03-08", timeZone: "Asia/Tokyo" });
    const custom = fromUrl("from=2026-01-01&to=2026-01-31&tz=UTC").range;
    expect(custom).toEqual({ preset: "custom", from: "2026-01-01", to: "2026-01-31", timeZone: "UTC" });

    expect(rangeToUrl(custom, own)).toBe("from=2026-01-01&to=2026-01-31&tz=UTC");
    expect(rangeToUrl(presetRange("7d", own, NOW), own)).toBe("range=7d");
    expect(rangeToUrl(presetRange("30d", own, NOW), own)).toBe("");
  });

  it("says what is wrong with a URL's period and falls back to the last 30 days", () => {
    const own = "UTC";
    expect(rangeFromUrl(new URLSearchParams("tz=Mars/Olympus"), own, NOW)).toEqual({
      range: presetRange("30d", own, NOW),
      problem: '"Mars/Olympus" is not a time zone; showing UTC.',
    });
    expect(rangeFromUrl(new URLSearchParams("from=2026-03-05&to=2026-03-01"), own, NOW).problem).toBe(
      "The first day comes after the last day: swap them. Showing the last 30 days.",
    );
    expect(rangeProblem("2026-02-30", "2026-03-01")).toBe("Pick both a first and a last day.");
    expect(rangeProblem("2025-01-01", "2026-03-01")).toBe("Pick at most 366 days.");
    expect(rangeProblem("2025-03-01", "2026-03-01")).toBeNull();
    expect(isDay("2024-02-29")).toBe(true);
    expect(addDays("2024-02-28", 2)).toBe("2024-03-01");
  });

  it("asks the API for the period's instants and its days", () => {
    const queries = rangeQueries({ preset: "custom", from: "2026-03-01", to: "2026-03-07", timeZone: "Europe/Paris" });
    expect(queries).toEqual({
      period: { call_start_after_unix: Date.UTC(2026, 1, 28, 23) / 1000, call_start_before_unix: Date.UTC(2026, 2, 7, 23) / 1000 },
      daily: { start_date: "2026-03-01", end_date: "2026-03-07", time_zone: "Europe/Paris" },
    });
  });
});
