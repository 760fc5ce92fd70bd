import { location, router } from "@/test/navigation-mock";

import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { CallList, formatDuration } from "./call-list";

const CALL = {
  agent_id: "agent_1",
  agent_name: "Reception",
  conversation_id: "conv_1",
  start_time_unix_secs: 1764979200,
  call_duration_secs: 95,
  message_count: 4,
  status: "done",
  call_successful: "success",
  direction: "inbound",
  termination_reason: "caller hung up",
  channel: "sip",
  from_number: "+15550001111",
  to_number: "+15559990000",
  outcome: "call_back",
  sentiment: "neutral",
  has_audio: true,
};
const NO_AGENTS = { agents: [], has_more: false, next_cursor: null };

beforeEach(() => {
  location.search = new URLSearchParams();
  router.replace.mockClear();
});
afterEach(() => vi.unstubAllGlobals());

describe("the call list", () => {
  it("shows each call's row", async () => {
    fakeApi({ "GET /v1/convai/agents": { body: NO_AGENTS }, "GET /v1/convai/conversations": { body: { conversations: [CALL], has_more: false, next_cursor: null } } });
    renderWithClient(<CallList />);

    expect(await screen.findByText("conv_1")).toBeInTheDocument();
    expect(screen.getByText("Reception")).toBeInTheDocument();
    expect(screen.getByText("SIP")).toBeInTheDocument();
    expect(screen.getByText("1:35")).toBeInTheDocument();
    expect(screen.getByText("Caller hung up")).toBeInTheDocument();
    const row = screen.getByRole("link", { name: /conv_1/ }).closest("tr") as HTMLElement;
    expect(within(row).getByText("+15550001111")).toBeInTheDocument();
    expect(within(row).getByText("→ +15559990000")).toBeInTheDocument();
    expect(within(row).getByText("Call back")).toBeInTheDocument();
    expect(within(row).getByText("Neutral")).toBeInTheDocument();
    expect(screen.getByText("Recorded")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /conv_1/ })).toHaveAttribute("href", expect.stringMatching(/^\/calls\/view\/?\?id=conv_1$/));
  });

  it("opens with the filters of its URL, sends them to the API and exports the same calls", async () => {
    location.search = new URLSearchParams("outcome=meeting_booked&search=demo");
    const requests = fakeApi({ "GET /v1/convai/agents": { body: NO_AGENTS }, "GET /v1/convai/conversations": { body: { conversations: [], has_more: false, next_cursor: null } } });
    renderWithClient(<CallList />);

    expect(await screen.findByText("No call matches these filters")).toBeInTheDocument();
    const listed = requests.find((r) => r.url.startsWith("/v1/convai/conversations"));
    expect(listed?.url).toContain("outcome=meeting_booked");
    expect(listed?.url).toContain("search=demo");
    expect(screen.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", "/v1/convai/conversations/export?outcome=meeting_booked&search=demo");
    expect(screen.getByLabelText("Outcome")).toHaveValue("meeting_booked");
  });

  it("keeps a changed filter in the URL", async () => {
    fakeApi({ "GET /v1/convai/agents": { body: NO_AGENTS }, "GET /v1/convai/conversations": { body: { conversations: [], has_more: false, next_cursor: null } } });
    renderWithClient(<CallList />);
    await screen.findByText("No calls yet");

    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "failed" } });

    await waitFor(() => expect(router.replace).toHaveBeenLastCalledWith("/calls/?status=failed", { scroll: false }));
  });

  it("shows the API's reason for a filter it refuses", async () => {
    location.search = new URLSearchParams("phone_number=abc");
    fakeApi({
      "GET /v1/convai/agents": { body: NO_AGENTS },
      "GET /v1/convai/conversations": { status: 422, body: { detail: { status: "invalid_phone_number", message: "phone_number: 'abc' is not a phone number" } } },
    });
    renderWithClient(<CallList />);

    expect(await screen.findByText("phone_number: 'abc' is not a phone number")).toBeInTheDocument();
  });

  it("writes durations as people read them", () => {
    expect(formatDuration(15)).toBe("15s");
    expect(formatDuration(300)).toBe("5:00");
  });
});
