/**
 * The sections of /settings/, each with the permission that shows it (app/people/roles.py) and
 * the one that lets a person change it. The section is chosen by `?section=` in the URL.
 */

export type SectionId = "numbers" | "webhooks" | "api-keys" | "provider-keys" | "do-not-call" | "users" | "audit";

export interface SettingsSection {
  id: SectionId;
  label: string;
  description: string;
  /** Reading the section. */
  permission: string;
  /** Changing what it lists; absent: the same as reading. */
  writePermission?: string;
}

export const SETTINGS_SECTIONS: readonly SettingsSection[] = [
  { id: "numbers", label: "Phone numbers", description: "Twilio numbers and the agent that answers each.", permission: "numbers:read", writePermission: "numbers:write" },
  { id: "webhooks", label: "Webhooks", description: "Endpoints told about calls and campaigns, and what was sent to them.", permission: "webhooks:read", writePermission: "webhooks:write" },
  { id: "api-keys", label: "API keys", description: "Keys that programs use to call the Velox API.", permission: "api_keys" },
  { id: "provider-keys", label: "Provider keys", description: "Your keys for cloud speech and language providers.", permission: "provider_keys" },
  { id: "do-not-call", label: "Do-not-call list", description: "Numbers that no campaign dials.", permission: "campaigns:read", writePermission: "campaigns:write" },
  { id: "users", label: "Users and roles", description: "Who signs in, and what each may do.", permission: "users" },
  { id: "audit", label: "Audit log", description: "Who created, changed or deleted what.", permission: "audit:read" },
];

/** Any one of these shows the Settings link. */
export const SETTINGS_PERMISSIONS: readonly string[] = [...new Set(SETTINGS_SECTIONS.map((section) => section.permission))];

export function visibleSections(permissions: readonly string[]): SettingsSection[] {
  const granted = new Set(permissions);
  return SETTINGS_SECTIONS.filter((section) => granted.has(section.permission));
}

export function mayChange(section: SettingsSection, permissions: readonly string[]): boolean {
  return permissions.includes(section.writePermission ?? section.permission);
}

export function settingsHref(section: SectionId, id?: string): string {
  return `/settings/?section=${section}${id ? `&id=${encodeURIComponent(id)}` : ""}`;
}
