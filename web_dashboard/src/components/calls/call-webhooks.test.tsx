import "@/test/navigation-mock";

import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { CallWebhooks } from "./call-webhooks";

afterEach(() => vi.unstubAllGlobals());

const PATH = "GET /v1/convai/conversations/conv_1/webhook-deliveries";
const me = (permissions: string[]) => ({ body: { role: "support", permissions, email: "lead@example.com" } });
const delivery = (overrides: Record<string, unknown>) => ({
  delivery_id: "whd_1",
  event_type: "call_ended",
  status: "delivered",
  attempts: 1,
  last_status_code: 200,
  last_error: "",
  created_at_unix: 1764979200,
  delivered_at_unix: 1764979201,
  next_attempt_at_unix: null,
  payload: { type: "call_ended", data: { conversation_id: "conv_1", termination_reason: "caller hung up" } },
  webhook_id: "whk_crm",
  webhook_name: "CRM",
  webhook_url: "https://crm.example.com/hook",
  ...overrides,
});

describe("the call's webhook deliveries", () => {
  it("shows each delivery's endpoint, status, tries and error, and opens what was sent", async () => {
    const requests = fakeApi({
      "GET /v1/me": me(["calls:read"]),
      [PATH]: {
        body: {
          deliveries: [
            delivery({ delivery_id: "whd_2", status: "pending", attempts: 3, last_status_code: 503, last_error: "Service Unavailable", delivered_at_unix: null, next_attempt_at_unix: 1764979500, webhook_name: "Billing", webhook_id: "whk_b" }),
            delivery({}),
          ],
        },
      },
    });
    renderWithClient(<CallWebhooks conversationId="conv_1" />);

    const list = await screen.findByRole("list", { name: "Webhook deliveries" });
    const [pending, delivered] = within(list).getAllByRole("listitem");
    expect(pending).toHaveTextContent("call_ended");
    expect(pending).toHaveTextContent("pending");
    expect(pending).toHaveTextContent("HTTP 503");
    expect(pending).toHaveTextContent("3 tries");
    expect(pending).toHaveTextContent(/next try/);
    expect(within(pending!).getByText("Service Unavailable")).toBeInTheDocument();
    expect(delivered).toHaveTextContent("to CRM https://crm.example.com/hook");
    expect(delivered).toHaveTextContent(/1 try · delivered/);
    // A support lead without webhooks:read sees the endpoint's name, not a link to its settings.
    expect(within(list).queryByRole("link")).not.toBeInTheDocument();

    await userEvent.click(within(delivered!).getByText("Show the JSON sent"));
    expect(within(delivered!).getByText(/"termination_reason": "caller hung up"/)).toBeVisible();
    expect(requests.some((r) => r.url === "/v1/convai/conversations/conv_1/webhook-deliveries")).toBe(true);
  });

  it("links the endpoint to its delivery log for a role that may read webhooks", async () => {
    fakeApi({ "GET /v1/me": me(["calls:read", "webhooks:read"]), [PATH]: { body: { deliveries: [delivery({})] } } });
    renderWithClient(<CallWebhooks conversationId="conv_1" />);

    expect(await screen.findByRole("link", { name: "CRM" })).toHaveAttribute("href", expect.stringMatching(/^\/settings\/?\?section=webhooks&id=whk_crm$/));
  });

  it("says when nothing was sent, and why a failed read failed", async () => {
    fakeApi({ "GET /v1/me": me(["calls:read"]), [PATH]: { body: { deliveries: [] } } });
    const { unmount } = renderWithClient(<CallWebhooks conversationId="conv_1" />);
    expect(await screen.findByText(/No webhook was sent about this call/)).toBeInTheDocument();
    unmount();

    fakeApi({
      "GET /v1/me": me(["calls:read"]),
      [PATH]: { status: 404, body: { detail: { status: "not_found", message: "no conversation with id 'conv_1'" } } },
    });
    renderWithClient(<CallWebhooks conversationId="conv_1" />);
    expect(await screen.findByRole("alert")).toHaveTextContent(/could not be loaded: no conversation/i);
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
