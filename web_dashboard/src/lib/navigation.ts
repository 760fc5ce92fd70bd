/**
 * The dashboard's pages in the navigation, each with the permission it needs
 * (app/people/roles.py). Only pages that are built are listed; a person sees a link only when
 * their role grants its permission (any one of them, for a page of several sections).
 */

import { SETTINGS_PERMISSIONS } from "./settings-sections";

export interface NavItem {
  label: string;
  href: string;
  permission: string | readonly string[];
}

export const NAV_ITEMS: readonly NavItem[] = [
  { label: "Agents", href: "/agents/", permission: "agents:read" },
  { label: "Calls", href: "/calls/", permission: "calls:read" },
  { label: "Campaigns", href: "/campaigns/", permission: "campaigns:read" },
  { label: "Analytics", href: "/analytics/", permission: "analytics:read" },
  { label: "Live", href: "/live/", permission: "calls:read" },
  { label: "Settings", href: "/settings/", permission: SETTINGS_PERMISSIONS },
];

export function visibleNav(permissions: readonly string[]): NavItem[] {
  const granted = new Set(permissions);
  return NAV_ITEMS.filter((item) => [item.permission].flat().some((permission) => granted.has(permission)));
}

/** Where a person lands after signing in: their first page, else their account. */
export function homeFor(permissions: readonly string[]): string {
  return visibleNav(permissions)[0]?.href ?? "/account/";
}

/** A `next` parameter made safe: a path on this site, never another origin. */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return null;
  return next;
}
