import "@/test/navigation-mock";

import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { ApiKeys } from "./api-keys";
import { Users } from "./users";

afterEach(() => vi.unstubAllGlobals());

function key(overrides: Record<string, unknown> = {}) {
  return { key_id: "key_1", name: "CRM sync", key_prefix: "vx_1a2b3", scopes: null, created_at_unix_secs: 1764979200, last_used_at_unix_secs: null, revoked_at_unix_secs: null, ...overrides };
}

function user(overrides: Record<string, unknown> = {}) {
  return { user_id: "usr_2", email: "sam@acme.test", role: "support", status: "active", created_at_unix_secs: 1764979200, last_sign_in_unix_secs: null, agent_ids: null, ...overrides };
}

describe("API keys", () => {
  it("shows a new key once, with a copy button, and never again", async () => {
    let listed = [] as ReturnType<typeof key>[];
    const requests = fakeApi({
      "GET /v1/api-keys": () => ({ body: { api_keys: listed } }),
      "POST /v1/api-keys": () => {
        listed = [key({ name: "Reports", scopes: ["calls:read"] })];
        return { status: 201, body: { ...listed[0], api_key: "vx_1a2b3secretsecret" } };
      },
    });
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    renderWithClient(<ApiKeys />);

    await userEvent.click((await screen.findAllByRole("button", { name: "New API key" }))[0]!);
    const dialog = screen.getByRole("dialog", { name: "New API key" });
    await userEvent.type(within(dialog).getByLabelText("Key name"), "Reports");
    await userEvent.click(within(dialog).getByLabelText("Only what I choose"));
    await userEvent.click(within(dialog).getByLabelText("Read calls"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));

    const shown = await screen.findByRole("dialog", { name: "Your new API key" });
    expect(within(shown).getByLabelText("API key")).toHaveTextContent("vx_1a2b3secretsecret");
    await userEvent.click(within(shown).getByRole("button", { name: "Copy" }));
    expect(writeText).toHaveBeenCalledWith("vx_1a2b3secretsecret");
    expect(within(shown).getByRole("button", { name: "Copied" })).toBeInTheDocument();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ name: "Reports", scopes: ["calls:read"] });

    await userEvent.click(within(shown).getByRole("button", { name: "Done" }));
    expect(await screen.findByText("Reports")).toBeInTheDocument();
    expect(screen.queryByText("vx_1a2b3secretsecret")).not.toBeInTheDocument();
    expect(screen.getByText("vx_1a2b3…")).toBeInTheDocument();
  });

  it("shows the API's refusal under the name field", async () => {
    fakeApi({
      "GET /v1/api-keys": { body: { api_keys: [] } },
      "POST /v1/api-keys": { status: 422, body: { detail: [{ loc: ["body", "name"], msg: "String should have at most 200 characters" }] } },
    });
    renderWithClient(<ApiKeys />);
    await userEvent.click((await screen.findAllByRole("button", { name: "New API key" }))[0]!);
    await userEvent.type(screen.getByLabelText("Key name"), "x");
    await userEvent.click(screen.getByRole("button", { name: "Create key" }));

    expect(await screen.findByText("String should have at most 200 characters")).toBeInTheDocument();
    expect(screen.getByLabelText("Key name")).toHaveAttribute("aria-invalid", "true");
  });

  it("revokes a key only after asking", async () => {
    const requests = fakeApi({
      "GET /v1/api-keys": { body: { api_keys: [key()] } },
      "DELETE /v1/api-keys/key_1": { status: 204 },
    });
    renderWithClient(<ApiKeys />);
    await userEvent.click(await screen.findByRole("button", { name: "Revoke CRM sync" }));
    const confirm = screen.getByRole("alertdialog", { name: "Revoke “CRM sync”?" });
    expect(requests.some((r) => r.method === "DELETE")).toBe(false);

    await userEvent.click(within(confirm).getByRole("button", { name: "Revoke key" }));
    await waitFor(() => expect(requests.some((r) => r.method === "DELETE" && r.url === "/v1/api-keys/key_1")).toBe(true));
  });
});

describe("users and roles", () => {
  it("invites someone and shows their link once", async () => {
    const requests = fakeApi({
      "GET /v1/users": { body: { users: [user({ email: "admin@acme.test", role: "admin", user_id: "usr_1" })] } },
      "POST /v1/users": { status: 201, body: { ...user({ email: "new@acme.test", role: "manager", status: "invited" }), invite_url: "http://velox.test/invite?token=abc" } },
    });
    renderWithClient(<Users myEmail="admin@acme.test" />);
    await userEvent.click(await screen.findByRole("button", { name: "Invite someone" }));
    await userEvent.type(screen.getByLabelText("Email address"), "new@acme.test");
    await userEvent.selectOptions(screen.getByLabelText("Role"), "manager");
    await userEvent.click(screen.getByRole("button", { name: "Create invite" }));

    const shown = await screen.findByRole("dialog", { name: "Invite link" });
    expect(within(shown).getByLabelText("Invite link")).toHaveTextContent("http://velox.test/invite?token=abc");
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ email: "new@acme.test", role: "manager" });
  });

  it("offers no change to your own account", async () => {
    fakeApi({ "GET /v1/users": { body: { users: [user({ email: "admin@acme.test", role: "admin" })] } } });
    renderWithClient(<Users myEmail="admin@acme.test" />);
    expect(await screen.findByText("(you)")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Remove/ })).not.toBeInTheDocument();
  });

  it("changes a role, and shows why the API refused it", async () => {
    const requests = fakeApi({
      "GET /v1/users": { body: { users: [user()] } },
      "PATCH /v1/users/usr_2": { status: 409, body: { detail: { status: "last_admin", message: "this is the organization's last active admin; make another admin first" } } },
    });
    renderWithClient(<Users myEmail="admin@acme.test" />);
    await userEvent.click(await screen.findByRole("button", { name: "Change role of sam@acme.test" }));
    await userEvent.selectOptions(screen.getByLabelText("Role"), "manager");
    await userEvent.click(screen.getByRole("button", { name: "Save role" }));

    expect(await screen.findByText("This is the organization's last active admin; make another admin first")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ role: "manager" });
  });

  it("removes someone only after asking", async () => {
    const requests = fakeApi({ "GET /v1/users": { body: { users: [user()] } }, "DELETE /v1/users/usr_2": { status: 204 } });
    renderWithClient(<Users myEmail="admin@acme.test" />);
    await userEvent.click(await screen.findByRole("button", { name: "Remove sam@acme.test" }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Remove user" }));
    await waitFor(() => expect(requests.some((r) => r.method === "DELETE")).toBe(true));
  });
});
