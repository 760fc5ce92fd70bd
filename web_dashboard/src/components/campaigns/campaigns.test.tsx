import { location, router } from "@/test/navigation-mock";

import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { CampaignDetail } from "./campaign-detail";
import { CampaignList } from "./campaign-list";
import { CampaignWizard } from "./wizard/campaign-wizard";

const PROGRESS = { leads_total: 4, leads_pending: 1, leads_calling: 1, leads_finished: 2, leads_dialed: 3, leads_answered: 2, attempts: 4, attempts_in_progress: 1, outcomes: { interested: 2, no_answer: 1 } };
const CAMPAIGN = {
  campaign_id: "cmp_1",
  name: "Spring renewals",
  agent_id: "agent_1",
  agent_phone_number_id: "pn_1",
  state: "running",
  settings: {},
  created_at_unix_secs: 1764979200,
  completed_at_unix_secs: null,
  progress: PROGRESS,
};
const AGENTS = { agents: [{ agent_id: "agent_1", name: "Sales rep", tags: [], voice_id: "v", created_at_unix_secs: 1, updated_at_unix_secs: 1 }], has_more: false, next_cursor: null };
const NUMBERS = [{ phone_number_id: "pn_1", phone_number: "+12125550100", label: "sales", provider: "twilio", assigned_agent: null }];
const EMPTY_LEADS = { leads: [], next_cursor: null };

beforeEach(() => {
  location.search = new URLSearchParams();
  router.push.mockClear();
});
afterEach(() => vi.unstubAllGlobals());

describe("the campaign list", () => {
  it("shows each campaign with its state, agent, number and progress", async () => {
    fakeApi({ "GET /v1/campaigns": { body: [CAMPAIGN] }, "GET /v1/convai/agents": { body: AGENTS }, "GET /v1/convai/phone-numbers": { body: NUMBERS } });
    renderWithClient(<CampaignList canWrite />);

    const link = await screen.findByRole("link", { name: "Spring renewals" });
    expect(link).toHaveAttribute("href", expect.stringMatching(/^\/campaigns\/view\/?\?id=cmp_1$/));
    const row = link.closest("tr") as HTMLElement;
    expect(within(row).getByText("Running")).toBeInTheDocument();
    expect(await within(row).findByText("Sales rep")).toBeInTheDocument();
    expect(await within(row).findByText("+12125550100")).toBeInTheDocument();
    expect(within(row).getByRole("progressbar", { name: "Leads finished" })).toHaveAttribute("aria-valuenow", "2");
  });

  it("says what to do when there is none, and lists batch calls in their own tab", async () => {
    fakeApi({
      "GET /v1/campaigns": { body: [] },
      "GET /v1/convai/agents": { body: AGENTS },
      "GET /v1/convai/phone-numbers": { body: NUMBERS },
      "GET /v1/convai/batch-calling/workspace": {
        body: { batch_calls: [{ id: "cmp_2", name: "Batch of May", status: "in_progress", agent_id: "agent_1", agent_name: "Sales rep", total_calls_dispatched: 3, total_calls_scheduled: 5, total_calls_finished: 1, scheduled_time_unix: 1764979200, retry_count: 0 }], has_more: false, next_doc: null },
      },
    });
    renderWithClient(<CampaignList canWrite />);

    expect(await screen.findByText("No campaigns yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Create your first campaign" })).toHaveAttribute("href", expect.stringMatching(/^\/campaigns\/new\/?$/));
    await userEvent.click(screen.getByRole("tab", { name: "Batch calls" }));
    const row = (await screen.findByRole("link", { name: "Batch of May" })).closest("tr") as HTMLElement;
    expect(within(row).getByText("In progress")).toBeInTheDocument();
    expect(within(row).getByText("1 / 5")).toBeInTheDocument();
  });

  it("tells what went wrong when the list cannot be read", async () => {
    fakeApi({ "GET /v1/campaigns": { status: 500, body: {} }, "GET /v1/convai/agents": { body: AGENTS }, "GET /v1/convai/phone-numbers": { body: NUMBERS } });
    renderWithClient(<CampaignList canWrite={false} />);
    expect(await screen.findByText("The campaigns could not be loaded")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "New campaign" })).toBeNull();
  });
});

async function fillBasics() {
  await userEvent.type(await screen.findByLabelText("Campaign name"), "Spring renewals");
  await screen.findByRole("option", { name: "Sales rep" });
  await userEvent.selectOptions(screen.getByLabelText("Agent"), "agent_1");
  await screen.findByRole("option", { name: /\+12125550100/ });
  await userEvent.selectOptions(screen.getByLabelText("Calls from"), "pn_1");
}

async function chooseFile(text: string) {
  await userEvent.click(screen.getByRole("button", { name: /Leads/ }));
  const input = screen.getByLabelText("Leads file (CSV)");
  fireEvent.change(input, { target: { files: [new File([text], "leads.csv", { type: "text/csv" })] } });
}

describe("the campaign wizard", () => {
  it("maps the columns by rewriting the header, creates the campaign, uploads the file and shows the bad rows", async () => {
    const requests = fakeApi({
      "GET /v1/convai/agents": { body: AGENTS },
      "GET /v1/convai/phone-numbers": { body: NUMBERS },
      "POST /v1/campaigns": { status: 201, body: { ...CAMPAIGN, state: "draft" } },
      "POST /v1/campaigns/cmp_1/leads": { body: { imported: 1, duplicates_skipped: 0, rejected: 1, rejected_rows: [{ line: 3, reason: "phone number 'nope': not a phone number" }], over_cap: 0, max_leads: 100000 } },
    });
    renderWithClient(<CampaignWizard />);
    await fillBasics();
    await chooseFile("Cell,Who,Plan\n+12125550101,Maria,gold\nnope,Bad,silver\n");

    expect(await screen.findByText("gold")).toBeInTheDocument();
    expect(screen.getByText("Choose the column that holds the phone number.")).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText("Role of column Cell"), "phone_number");
    await userEvent.selectOptions(screen.getByLabelText("Role of column Who"), "name");
    await userEvent.clear(screen.getByLabelText("Variable name of column Plan"));
    await userEvent.type(screen.getByLabelText("Variable name of column Plan"), "plan_name");
    await userEvent.click(screen.getByRole("button", { name: "Create campaign" }));

    expect(await screen.findByText("Rows not imported")).toBeInTheDocument();
    expect(screen.getByText("phone number 'nope': not a phone number")).toBeInTheDocument();
    const created = requests.find((r) => r.method === "POST" && r.url === "/v1/campaigns");
    expect(created?.body).toMatchObject({ name: "Spring renewals", agent_id: "agent_1", agent_phone_number_id: "pn_1", settings: { calls_per_minute: 10 } });
    const upload = requests.find((r) => r.url === "/v1/campaigns/cmp_1/leads");
    expect(upload?.headers.get("content-type")).toBe("text/csv");
    expect(upload?.body).toBe("phone_number,name,plan_name\n+12125550101,Maria,gold\nnope,Bad,silver\n");
  });

  it("shows the API's validation error beside its field, on the step that holds it", async () => {
    fakeApi({
      "GET /v1/convai/agents": { body: AGENTS },
      "GET /v1/convai/phone-numbers": { body: NUMBERS },
      "POST /v1/campaigns": { status: 422, body: { detail: [{ loc: ["body", "settings", "calls_per_minute"], msg: "Input should be less than or equal to 1000", type: "less_than_equal" }] } },
    });
    renderWithClient(<CampaignWizard />);
    await fillBasics();
    await chooseFile("phone\n+12125550101\n");
    await userEvent.click(await screen.findByRole("button", { name: "Create campaign" }));

    expect(await screen.findByRole("heading", { name: "Pacing, retries, voicemail" })).toBeInTheDocument();
    const field = screen.getByLabelText("Calls started per minute");
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("Input should be less than or equal to 1000")).toBeInTheDocument();
  });
});

describe("the campaign page", () => {
  it("shows the leads' progress and the outcomes, and pauses a running campaign", async () => {
    let state = "running";
    const requests = fakeApi({
      "GET /v1/campaigns/cmp_1": () => ({ body: { ...CAMPAIGN, state } }),
      "GET /v1/campaigns/cmp_1/attempts": { body: [{ attempt_id: "att_1", lead_id: "l1", number: 1, status: "ended", conversation_id: "conv_1", call_sid: "CA1", outcome: "interested", detail: "", claimed_at_unix_secs: 1764979200, ended_at_unix_secs: 1764979300 }] },
      "GET /v1/campaigns/cmp_1/leads": { body: { leads: [{ lead_id: "l1", campaign_id: "cmp_1", campaign_name: "Spring renewals", phone_number: "+12125550101", time_zone: "America/New_York", variables: { name: "Maria Lopez" }, status: "finished", finished_reason: "interested is final", attempts_made: 1, next_attempt_unix_secs: null, last_outcome: "interested", owner_email: "ana@acme.test", last_call: null, last_report: null, next_callback: null }], next_cursor: null } },
      "GET /v1/convai/agents": { body: AGENTS },
      "GET /v1/convai/phone-numbers": { body: NUMBERS },
      "POST /v1/campaigns/cmp_1/pause": () => {
        state = "paused";
        return { body: { ...CAMPAIGN, state } };
      },
    });
    renderWithClient(<CampaignDetail campaignId="cmp_1" canWrite />);

    expect(await screen.findByRole("heading", { name: "Spring renewals" })).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Pending" })).toHaveAttribute("aria-valuenow", "1");
    expect(screen.getByRole("progressbar", { name: "Dialed" })).toHaveAttribute("aria-valuenow", "3");
    expect(screen.getByRole("progressbar", { name: "Answered" })).toHaveAttribute("aria-valuenow", "2");
    expect(screen.getByRole("progressbar", { name: "Completed" })).toHaveAttribute("aria-valuenow", "2");
    expect(screen.getByText("2 · 67%")).toBeInTheDocument();
    expect(await screen.findByText("ana@acme.test")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /Export report/ })).toHaveAttribute("href", "/v1/campaigns/cmp_1/report");

    await userEvent.click(screen.getByRole("button", { name: "Pause" }));
    expect(await screen.findByRole("button", { name: "Resume" })).toBeInTheDocument();
    await waitFor(() => expect(requests.some((r) => r.method === "POST" && r.url === "/v1/campaigns/cmp_1/pause")).toBe(true));
  });

  it("says so when the campaign does not exist", async () => {
    fakeApi({
      "GET /v1/campaigns/cmp_9": { status: 404, body: { detail: { status: "not_found", message: "campaign cmp_9 not found" } } },
      "GET /v1/convai/agents": { body: AGENTS },
      "GET /v1/convai/phone-numbers": { body: NUMBERS },
    });
    renderWithClient(<CampaignDetail campaignId="cmp_9" canWrite />);
    expect(await screen.findByText("This campaign could not be opened")).toBeInTheDocument();
    expect(screen.getByText(/Campaign cmp_9 not found/)).toBeInTheDocument();
  });
});
