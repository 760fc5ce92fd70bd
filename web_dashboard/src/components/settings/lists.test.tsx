import "@/test/navigation-mock";

import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { AuditLog } from "./audit-log";
import { DoNotCall } from "./do-not-call";
import { PhoneNumbers } from "./phone-numbers";
import { ProviderKeys } from "./provider-keys";
import { WebhookDeliveries } from "./webhook-deliveries";
import { Webhooks } from "./webhooks";

afterEach(() => vi.unstubAllGlobals());

const PROVIDERS = ["deepgram", "groq", "openai", "elevenlabs", "cartesia"];

describe("provider keys", () => {
  it("says whether a key is set, never what it is, and sets one", async () => {
    let set = false;
    const requests = fakeApi({
      "GET /v1/provider-keys": () => ({
        body: { provider_keys: PROVIDERS.map((provider) => ({ provider, is_set: provider === "deepgram" && set, updated_at_unix_secs: set ? 1764979200 : null })) },
      }),
      "PUT /v1/provider-keys/deepgram": () => {
        set = true;
        return { body: { provider: "deepgram", is_set: true, updated_at_unix_secs: 1764979200 } };
      },
    });
    renderWithClient(<ProviderKeys />);
    await userEvent.click(await screen.findByRole("button", { name: "Set key for deepgram" }));
    await userEvent.type(screen.getByLabelText("API key"), "dg-secret-0123456789");
    await userEvent.click(screen.getByRole("button", { name: "Save key" }));

    expect(await screen.findByText("Key set")).toBeInTheDocument();
    expect(screen.queryByText(/dg-secret/)).not.toBeInTheDocument();
    expect(requests.find((r) => r.method === "PUT")?.body).toEqual({ api_key: "dg-secret-0123456789" });
  });

  it("clears a key only after asking", async () => {
    const requests = fakeApi({
      "GET /v1/provider-keys": { body: { provider_keys: [{ provider: "groq", is_set: true, updated_at_unix_secs: 1764979200 }] } },
      "DELETE /v1/provider-keys/groq": { status: 204 },
    });
    renderWithClient(<ProviderKeys />);
    await userEvent.click(await screen.findByRole("button", { name: "Clear the groq key" }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Clear key" }));
    await waitFor(() => expect(requests.some((r) => r.method === "DELETE" && r.url === "/v1/provider-keys/groq")).toBe(true));
  });
});

describe("the do-not-call list", () => {
  it("shows a number the API refuses under the number field", async () => {
    fakeApi({
      "GET /v1/do-not-call": { body: [] },
      "POST /v1/do-not-call": { status: 422, body: { detail: { status: "invalid_phone_number", message: "'12' is not a phone number in E.164 form" } } },
    });
    renderWithClient(<DoNotCall canWrite />);
    await userEvent.type(await screen.findByLabelText("Phone number"), "12");
    await userEvent.click(screen.getByRole("button", { name: "Add to list" }));

    expect(await screen.findByText("'12' is not a phone number in E.164 form")).toBeInTheDocument();
    expect(screen.getByLabelText("Phone number")).toHaveAttribute("aria-invalid", "true");
  });

  it("adds a number with its note and removes it after asking", async () => {
    let entries: { phone_number: string; source: string; note: string; created_at_unix_secs: number }[] = [];
    const requests = fakeApi({
      "GET /v1/do-not-call": () => ({ body: entries }),
      "POST /v1/do-not-call": () => {
        entries = [{ phone_number: "+14155550100", source: "api", note: "asked by letter", created_at_unix_secs: 1764979200 }];
        return { status: 201, body: entries[0] };
      },
      "DELETE /v1/do-not-call/+14155550100": { status: 204 },
    });
    renderWithClient(<DoNotCall canWrite />);
    await userEvent.type(await screen.findByLabelText("Phone number"), "+1 415 555 0100");
    await userEvent.type(screen.getByLabelText("Note"), "asked by letter");
    await userEvent.click(screen.getByRole("button", { name: "Add to list" }));

    expect(await screen.findByRole("cell", { name: "+14155550100" })).toBeInTheDocument();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ phone_number: "+1 415 555 0100", note: "asked by letter" });
    await userEvent.click(screen.getByRole("button", { name: "Remove +14155550100" }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Remove number" }));
    await waitFor(() => expect(requests.some((r) => r.method === "DELETE")).toBe(true));
  });
});

describe("webhooks", () => {
  const hook = { name: "CRM", webhook_id: "whk_1", webhook_url: "https://crm.example/hook", is_disabled: false, is_auto_disabled: false, created_at_unix: 1764979200, auth_type: "hmac", events: ["call_ended"], retry_enabled: true, most_recent_failure_error_code: 500, most_recent_failure_timestamp: 1764979300 };

  it("adds an endpoint and shows its signing secret once; the URL's refusal by its field", async () => {
    let calls = 0;
    fakeApi({
      "GET /v1/workspace/webhooks": { body: { webhooks: [] } },
      "POST /v1/workspace/webhooks": () =>
        ++calls === 1
          ? { status: 422, body: { detail: [{ loc: ["body", "settings", "webhook_url"], msg: "URL scheme should be 'http' or 'https'" }] } }
          : { body: { webhook_id: "whk_1", webhook_secret: "wsec_abc" } },
    });
    renderWithClient(<Webhooks canWrite />);
    await userEvent.click((await screen.findAllByRole("button", { name: "Add a webhook" }))[0]!);
    await userEvent.type(screen.getByLabelText("Name"), "CRM");
    await userEvent.type(screen.getByLabelText("Endpoint URL"), "ftp://crm.example/hook");
    await userEvent.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByText("URL scheme should be 'http' or 'https'")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(within(await screen.findByRole("dialog", { name: "Webhook added" })).getByLabelText("Signing secret")).toHaveTextContent("wsec_abc");
  });

  it("links each endpoint to its delivery log and shows its last failure", async () => {
    fakeApi({ "GET /v1/workspace/webhooks": { body: { webhooks: [hook] } } });
    renderWithClient(<Webhooks canWrite={false} />);
    const link = await screen.findByRole("link", { name: "Delivery log of CRM" });
    expect(link.getAttribute("href")).toMatch(/^\/settings\/?\?section=webhooks&id=whk_1$/);
    expect(screen.getByText(/Last failure .* \(HTTP 500\)/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete CRM" })).not.toBeInTheDocument();
  });

  it("lists an endpoint's deliveries with their status, code and error", async () => {
    fakeApi({
      "GET /v1/workspace/webhooks": { body: { webhooks: [hook] } },
      "GET /v1/workspace/webhooks/whk_1/deliveries": {
        body: {
          deliveries: [
            { delivery_id: "whd_2", event_type: "call_ended", status: "pending", attempts: 1, last_status_code: 500, last_error: "HTTP 500", created_at_unix: 1764979300, delivered_at_unix: null, next_attempt_at_unix: 1764979400, payload: { type: "call_ended" } },
            { delivery_id: "whd_1", event_type: "call_started", status: "delivered", attempts: 1, last_status_code: 200, last_error: "", created_at_unix: 1764979200, delivered_at_unix: 1764979201, next_attempt_at_unix: null, payload: { type: "call_started" } },
          ],
        },
      },
    });
    renderWithClient(<WebhookDeliveries webhookId="whk_1" />);
    expect(await screen.findByRole("heading", { name: "Deliveries to “CRM”" })).toBeInTheDocument();
    const rows = screen.getAllByRole("row").slice(1);
    expect(within(rows[0]!).getByText("pending")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("HTTP 500", { selector: "p" })).toBeInTheDocument();
    expect(within(rows[1]!).getByText("delivered")).toBeInTheDocument();
  });
});

describe("phone numbers", () => {
  it("adds a Twilio number answered by a chosen agent, and deletes one after asking", async () => {
    let numbers: unknown[] = [];
    const requests = fakeApi({
      "GET /v1/convai/phone-numbers": () => ({ body: numbers }),
      "GET /v1/convai/agents": { body: { agents: [{ agent_id: "agent_1", name: "Front desk" }], has_more: false, next_cursor: null } },
      "POST /v1/convai/phone-numbers": () => {
        numbers = [{ phone_number_id: "pn_1", phone_number: "+14155550100", label: "Main", provider: "twilio", assigned_agent: { agent_id: "agent_1", agent_name: "Front desk" } }];
        return { body: { phone_number_id: "pn_1" } };
      },
      "DELETE /v1/convai/phone-numbers/pn_1": { body: {} },
    });
    renderWithClient(<PhoneNumbers canWrite />);
    await userEvent.click((await screen.findAllByRole("button", { name: "Add a Twilio number" }))[0]!);
    await userEvent.type(screen.getByLabelText("Phone number"), "+14155550100");
    await userEvent.type(screen.getByLabelText("Label"), "Main");
    await screen.findByRole("option", { name: "Front desk" });
    await userEvent.selectOptions(screen.getByLabelText("Answering agent"), "agent_1");
    await userEvent.click(screen.getByRole("button", { name: "Add number" }));

    expect(await screen.findByRole("link", { name: "Front desk" })).toBeInTheDocument();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ phone_number: "+14155550100", label: "Main", provider: "twilio", agent_id: "agent_1" });
    await userEvent.click(screen.getByRole("button", { name: "Delete +14155550100" }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Delete number" }));
    await waitFor(() => expect(requests.some((r) => r.method === "DELETE")).toBe(true));
  });
});

describe("the audit log", () => {
  it("narrows by action and kind on the server, and pages to older entries", async () => {
    const entry = (seq: number) => ({ seq, at_unix_secs: 1764979200, actor: "user:admin@acme.test", action: "created", target_type: "api_key", target_id: `key ${seq}`, detail: {} });
    const requests = fakeApi({
      "GET /v1/audit": (request) =>
        request.url.includes("before=2") ? { body: { entries: [entry(1)], next_before: null } } : { body: { entries: [entry(2)], next_before: 2 } },
    });
    renderWithClient(<AuditLog />);
    expect(await screen.findByText("key 2")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Show older entries" }));
    expect(await screen.findByText("key 1")).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText("Action"), "deleted");
    await userEvent.selectOptions(screen.getByLabelText("Kind"), "api_key");
    await waitFor(() => expect(requests.at(-1)?.url).toContain("action=deleted&target_type=api_key"));
  });
});
