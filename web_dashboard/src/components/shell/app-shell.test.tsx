import { location, router } from "@/test/navigation-mock";

import { screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { AppShell } from "./app-shell";

function me(role: string, permissions: string[]) {
  return { organization_id: "org_1", organization_name: "Acme", role, permissions, email: `${role}@acme.test`, api_key_name: null };
}

beforeEach(() => {
  location.pathname = "/agents/";
  router.replace.mockClear();
});
afterEach(() => vi.unstubAllGlobals());

describe("the signed-in frame", () => {
  it("links a manager to the agents", async () => {
    fakeApi({ "GET /v1/me": { body: me("manager", ["me", "agents:read", "agents:write"]) } });
    renderWithClient(<AppShell>{() => <p>page</p>}</AppShell>);

    const nav = await screen.findByRole("navigation", { name: "Main" });
    await waitFor(() => expect(nav.querySelectorAll("a")).toHaveLength(1));
    expect(screen.getByRole("link", { name: "Agents" })).toHaveAttribute("aria-current", "page");
    expect(screen.queryByRole("link", { name: "Settings" })).not.toBeInTheDocument();
  });

  it("shows a field agent no link they cannot use, and says so on a page they cannot open", async () => {
    fakeApi({ "GET /v1/me": { body: me("field_agent", ["me", "conversations:start"]) } });
    renderWithClient(<AppShell permission="agents:read">{() => <p>agents</p>}</AppShell>);

    expect(await screen.findByText("Not available to your role")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Agents" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Settings" })).not.toBeInTheDocument();
    expect(screen.queryByText("agents")).not.toBeInTheDocument();
  });

  it("sends someone not signed in to the sign-in page, to come back after", async () => {
    fakeApi({ "GET /v1/me": { status: 401, body: { detail: { status: "invalid_api_key", message: "Sign in" } } } });
    window.history.pushState({}, "", "/agents/edit/?id=agent_1");
    renderWithClient(<AppShell>{() => <p>page</p>}</AppShell>);

    await waitFor(() => expect(router.replace).toHaveBeenCalledWith(`/sign-in/?next=${encodeURIComponent("/agents/edit/?id=agent_1")}`));
  });
});
