import { describe, expect, it } from "vitest";

import { apiQuery, dayStartUnix, exportUrl, filtersFromUrl, filtersToUrl, FILTER_VALUES } from "./call-filters";

describe("the call filters", () => {
  it("round-trip through the URL", () => {
    const filters = { status: "done", search: "refund please", from: "2026-12-01" };
    expect(filtersFromUrl(new URLSearchParams(filtersToUrl(filters)))).toEqual(filters);
  });

  it("become the API's query, the last day included whole", () => {
    const query = apiQuery({ outcome: "meeting_booked", to: "2026-12-01", from: "2026-12-01", interrupted: "true", min_secs: "30", search: "  refund " });
    const start = dayStartUnix("2026-12-01")!;
    expect(query).toEqual({
      outcome: ["meeting_booked"],
      call_start_after_unix: start,
      call_start_before_unix: start + 86400,
      interrupted: true,
      call_duration_min_secs: 30,
      search: "refund",
    });
  });

  it("export the same calls the list shows", () => {
    expect(exportUrl({ status: "failed", phone_number: "+15550001111" })).toBe("/v1/convai/conversations/export?status=failed&phone_number=%2B15550001111");
    expect(exportUrl({})).toBe("/v1/convai/conversations/export");
  });

  it("offer the values the API takes", () => {
    expect(FILTER_VALUES.status).toContain("in-progress");
    expect(FILTER_VALUES.outcome).toContain("meeting_booked");
  });
});
