import { describe, expect, it } from "vitest";

import { homeFor, safeNext, visibleNav } from "./navigation";

describe("the navigation", () => {
  it("shows a page only to a role whose permissions include it", () => {
    expect(visibleNav(["me", "agents:read"]).map((item) => item.label)).toEqual(["Agents"]);
    expect(visibleNav(["me", "agents:read", "calls:read"]).map((item) => item.label)).toEqual(["Agents", "Calls", "Live"]);
    expect(visibleNav(["me", "agents:read", "calls:read", "analytics:read"]).map((item) => item.label)).toEqual([
      "Agents",
      "Calls",
      "Analytics",
      "Live",
    ]);
    expect(visibleNav(["me", "conversations:start"])).toEqual([]);
    expect(visibleNav(["me", "calls:read", "campaigns:read"]).map((item) => item.label)).toEqual(["Calls", "Campaigns", "Live", "Settings"]);
  });

  it("shows Settings to a role that may see any of its sections, never to a field agent", () => {
    expect(visibleNav(["me", "numbers:read"]).map((item) => item.label)).toEqual(["Settings"]);
    expect(visibleNav(["me", "audit:read"]).map((item) => item.label)).toEqual(["Settings"]);
    expect(visibleNav(["me", "conversations:start", "leads:own"]).map((item) => item.label)).not.toContain("Settings");
  });

  it("lands a field agent, who has no page of their own yet, on their account", () => {
    expect(homeFor(["me", "conversations:start"])).toBe("/account/");
    expect(homeFor(["me", "agents:read"])).toBe("/agents/");
  });

  it("follows `next` only to a path on this site", () => {
    expect(safeNext("/agents/edit/?id=a")).toBe("/agents/edit/?id=a");
    expect(safeNext("//evil.example/")).toBeNull();
    expect(safeNext("https://evil.example/")).toBeNull();
    expect(safeNext("/\\evil.example")).toBeNull();
  });
});
