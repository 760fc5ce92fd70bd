import { location, router } from "@/test/navigation-mock";

import { fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { AnalyticsDashboard } from "./analytics-dashboard";

const FIGURES = {
  calls: 5,
  minutes: 8.75,
  outcomes: { resolved: 2, call_back: 1, meeting_booked: 1, busy: 1 },
  sentiments: { positive: 2, negative: 1, neutral: 1, unknown: 1 },
  success_rate: 0.75,
  average_duration_secs: 105,
  p95_duration_secs: 264,
  voice_to_voice_p50_ms: 900,
  voice_to_voice_p95_ms: 1180,
  voice_to_voice_turns: 5,
  interruptions_per_call: 0.2,
  transfers: 0,
  provider_failures: 0,
};
const EMPTY_FIGURES = { ...FIGURES, calls: 0, minutes: 0, outcomes: {}, sentiments: {}, success_rate: null, voice_to_voice_p50_ms: null, voice_to_voice_p95_ms: null, voice_to_voice_turns: 0, interruptions_per_call: null };
const PERIOD = { call_start_after_unix: 1772323200, call_start_before_unix: 1772928000 };

function daily(query: URLSearchParams) {
  return {
    time_zone: query.get("time_zone"),
    start_date: query.get("start_date"),
    end_date: query.get("end_date"),
    days: [
      { date: query.get("start_date"), ...FIGURES, calls: 3, minutes: 3.5 },
      { date: query.get("end_date"), ...EMPTY_FIGURES },
    ],
  };
}

class NoResize {
  observe() {}
  unobserve() {}
  disconnect() {}
}

function answers(summary: object = FIGURES) {
  return fakeApi({
    "GET /v1/analytics/summary": { body: { ...PERIOD, ...summary } },
    "GET /v1/analytics/daily": (request) => ({ body: daily(new URL(request.url, "http://x").searchParams) }),
    "GET /v1/analytics/agents": { body: { ...PERIOD, agents: [{ agent_id: "agent_1", agent_name: "Reception", ...FIGURES, calls: 3 }] } },
    "GET /v1/campaigns": { body: [{ campaign_id: "camp_1", name: "Spring demos", agent_id: "a", agent_phone_number_id: "n", state: "running", settings: {}, created_at_unix_secs: 1, completed_at_unix_secs: null, progress: {} }] },
    "GET /v1/analytics/campaigns/camp_1/funnel": { body: { campaign_id: "camp_1", leads: 2, dialed: 2, answered: 1, human: 1, outcomes: { meeting_booked: 1 } } },
  });
}

beforeEach(() => {
  vi.stubGlobal("ResizeObserver", NoResize);
  location.search = new URLSearchParams();
  router.replace.mockClear();
});
afterEach(() => vi.unstubAllGlobals());

describe("the analytics page", () => {
  it("asks for the period of its URL in its time zone and shows the totals", async () => {
    location.search = new URLSearchParams("from=2026-03-01&to=2026-03-07&tz=Europe/Paris");
    const requests = answers();
    renderWithClient(<AnalyticsDashboard campaigns />);

    const totals = await screen.findByLabelText("Totals");
    expect(within(totals).getByText("8.8 min")).toBeInTheDocument();
    expect(within(totals).getByText("75%")).toBeInTheDocument();
    expect(within(totals).getByText("900 ms")).toBeInTheDocument();
    const asked = requests.map((request) => request.url);
    expect(asked).toContain("/v1/analytics/daily?start_date=2026-03-01&end_date=2026-03-07&time_zone=Europe%2FParis");
    // Midnight in Paris (UTC+1 in March) starts 1 March and ends 7 March.
    expect(asked).toContain("/v1/analytics/summary?call_start_after_unix=1772319600&call_start_before_unix=1772924400");
    expect(screen.getByText(/Mar 1, 2026 to Mar 7, 2026 \(7 days\), days from midnight to midnight in Europe\/Paris/)).toBeInTheDocument();
  });

  it("names each chart and gives its numbers as a table", async () => {
    answers();
    renderWithClient(<AnalyticsDashboard campaigns />);

    const volume = await screen.findByRole("figure", { name: "Calls and minutes per day" });
    expect(within(volume).getByRole("img", { name: "Calls and minutes per day" })).toHaveAccessibleDescription(/^3 calls, 3.5 min, over 2 days; the busiest day/);
    const outcomes = screen.getByRole("figure", { name: "Outcomes" });
    expect(within(outcomes).getByRole("row", { name: "Resolved 2 40%" })).toBeInTheDocument();
    const sentiment = screen.getByRole("figure", { name: "Sentiment" });
    expect(within(sentiment).getAllByRole("row").map((row) => row.textContent)).toEqual(["SentimentCallsShare", "Positive240%", "Neutral120%", "Negative120%", "Not known yet120%"]);

    expect(await screen.findByRole("row", { name: /^Reception 3 / })).toBeInTheDocument();
    expect(await screen.findByRole("row", { name: /^Spring demos Running 5 / })).toBeInTheDocument();
    const funnel = await screen.findByRole("figure", { name: "Campaign funnel" });
    expect(funnel).toHaveTextContent("All time: Leads 2, Dialed 2 (100%), Answered 1 (50%), Reached a person 1 (50%).");
    // Role queries with accessible names over every chart's table are CPU-bound in jsdom: 4.4 s
    // for this test alone on a loaded 2-core machine, at the edge of Vitest's 5 s default.
  }, 20_000);

  it("says when the period has no calls, and keeps a new period in the URL", async () => {
    answers(EMPTY_FIGURES);
    renderWithClient(<AnalyticsDashboard campaigns={false} />);

    expect(await screen.findByRole("heading", { name: "No calls in this period" })).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText("Period"), { target: { value: "7d" } });
    expect(router.replace).toHaveBeenLastCalledWith("/analytics/?range=7d", { scroll: false });
  });

  it("says what went wrong and what to do when the figures cannot be loaded", async () => {
    fakeApi({
      "GET /v1/analytics/summary": { status: 422, body: { detail: { status: "unknown_time_zone", message: "time_zone: 'Mars' is not an IANA time zone name (such as Europe/Paris)" } } },
      "GET /v1/analytics/daily": { status: 422, body: { detail: { status: "unknown_time_zone", message: "nope" } } },
    });
    renderWithClient(<AnalyticsDashboard campaigns />);

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The figures could not be loaded");
    expect(within(alert).getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });

  it("refuses custom days that make no period, beside them", async () => {
    answers();
    renderWithClient(<AnalyticsDashboard campaigns />);
    await screen.findByLabelText("Totals");

    fireEvent.change(screen.getByLabelText("Period"), { target: { value: "custom" } });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-03-09" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-03-01" } });
    expect(screen.getByText("The first day comes after the last day: swap them.")).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-03-10" } });
    expect(router.replace).toHaveBeenLastCalledWith(expect.stringMatching(/^\/analytics\/\?from=2026-03-09&to=2026-03-10/), { scroll: false });
  });
});
