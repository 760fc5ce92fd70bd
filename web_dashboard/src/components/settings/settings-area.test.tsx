import { location } from "@/test/navigation-mock";

import { screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Me } from "@/lib/session";
import { fakeApi, renderWithClient } from "@/test/render";

import { SettingsArea } from "./settings-area";

// The roles' permissions as GET /v1/me lists them (app/people/roles.py).
const ADMIN = ["agents:read", "agents:write", "analytics:read", "api_keys", "audit:read", "calls:delete", "calls:end", "calls:feedback", "calls:place", "calls:read", "campaigns:read", "campaigns:write", "conversations:start", "leads:own", "me", "numbers:read", "numbers:write", "provider_keys", "users", "webhooks:read", "webhooks:write"];
const MANAGER = ["agents:read", "agents:write", "analytics:read", "calls:end", "calls:feedback", "calls:place", "calls:read", "campaigns:read", "campaigns:write", "conversations:start", "me", "numbers:read", "numbers:write", "webhooks:read", "webhooks:write"];
const SUPPORT = ["agents:read", "analytics:read", "calls:end", "calls:feedback", "calls:read", "campaigns:read", "me", "numbers:read"];
const FIELD_AGENT = ["conversations:start", "leads:own", "me"];

function me(role: string, permissions: string[]): Me {
  return { organization_id: "org_1", organization_name: "Acme", role, permissions, email: `${role}@acme.test`, api_key_name: null };
}

function sectionLinks(): string[] {
  const nav = screen.getByRole("navigation", { name: "Settings sections" });
  return within(nav).getAllByRole("link").map((link) => link.textContent ?? "");
}

beforeEach(() => {
  location.search = new URLSearchParams();
  fakeApi({
    "GET /v1/convai/phone-numbers": { body: [] },
    "GET /v1/api-keys": { body: { api_keys: [] } },
    "GET /v1/do-not-call": { body: [] },
  });
});
afterEach(() => vi.unstubAllGlobals());

describe("the settings area", () => {
  it("lists every section to an admin", () => {
    renderWithClient(<SettingsArea me={me("admin", ADMIN)} />);
    expect(sectionLinks()).toEqual(["Phone numbers", "Webhooks", "API keys", "Provider keys", "Do-not-call list", "Users and roles", "Audit log"]);
  });

  it("shows a manager what managers run, and no keys, users or audit log", () => {
    renderWithClient(<SettingsArea me={me("manager", MANAGER)} />);
    expect(sectionLinks()).toEqual(["Phone numbers", "Webhooks", "Do-not-call list"]);
  });

  it("shows support the numbers and the do-not-call list, read only", async () => {
    location.search = new URLSearchParams("section=do-not-call");
    renderWithClient(<SettingsArea me={me("support", SUPPORT)} />);
    expect(sectionLinks()).toEqual(["Phone numbers", "Do-not-call list"]);
    expect(await screen.findByText("A manager or an admin can add numbers.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add to list" })).not.toBeInTheDocument();
  });

  it("tells a field agent there is nothing for them", () => {
    renderWithClient(<SettingsArea me={me("field_agent", FIELD_AGENT)} />);
    expect(screen.getByText("Not available to your role")).toBeInTheDocument();
    expect(screen.queryByRole("navigation", { name: "Settings sections" })).not.toBeInTheDocument();
  });

  it("opens the section the URL names, marked as the current one", async () => {
    location.search = new URLSearchParams("section=api-keys");
    renderWithClient(<SettingsArea me={me("admin", ADMIN)} />);
    expect(screen.getByRole("link", { name: "API keys" })).toHaveAttribute("aria-current", "page");
    expect(await screen.findByText("No API keys")).toBeInTheDocument();
  });

  it("says so when the URL names a section the role may not open", async () => {
    location.search = new URLSearchParams("section=api-keys");
    renderWithClient(<SettingsArea me={me("manager", MANAGER)} />);
    expect(screen.getByText("No such section here")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Phone numbers" })).toHaveAttribute("aria-current", "page");
  });
});
