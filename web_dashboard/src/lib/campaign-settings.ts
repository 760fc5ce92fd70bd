/**
 * A campaign's settings as the wizard edits them, and the body the API takes
 * (app/outbound/campaign_settings.py). Defaults are the API's own; the API checks everything
 * again and its errors are shown by field (`settings.retry.rules.busy.max_attempts`...).
 */

export const DAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
] as const;
export type Day = (typeof DAYS)[number][0];

/** The outcomes an attempt can end with (campaigns/outcomes.py), and whether a person was reached. */
export const OUTCOMES = [
  ["meeting_booked", "Meeting booked", true],
  ["interested", "Interested", true],
  ["not_interested", "Not interested", true],
  ["call_back", "Call back", true],
  ["wrong_number", "Wrong number", true],
  ["do_not_call", "Do not call", true],
  ["completed", "Completed", true],
  ["voicemail", "Voicemail", false],
  ["answered_by_machine", "Answered by a machine", false],
  ["fax", "Fax", false],
  ["no_answer", "No answer", false],
  ["busy", "Busy", false],
  ["failed", "Failed", false],
  ["canceled", "Canceled", false],
] as const;
export type Outcome = (typeof OUTCOMES)[number][0];

export function outcomeLabel(outcome: string): string {
  return OUTCOMES.find(([value]) => value === outcome)?.[1] ?? outcome.replaceAll("_", " ");
}

export interface RetryRuleDraft {
  enabled: boolean;
  delayMinutes: string;
  maxAttempts: string;
}

export interface SettingsDraft {
  /** Per weekday, its ranges as written (`09:00-12:00`); an empty list: no calls that day. */
  callingHours: Record<Day, string[]>;
  defaultTimeZone: string;
  defaultRegion: string;
  /** `datetime-local` values, read in `scheduleZone`. */
  startsAt: string;
  endsAt: string;
  maxConcurrentCalls: string;
  callsPerMinute: string;
  maxTotalAttempts: string;
  retry: Record<Outcome, RetryRuleDraft>;
  voicemailAction: "hang_up" | "leave_message";
  voicemailMessage: string;
}

// The API's default rules (campaigns/retries.py); an outcome without one is final.
const DEFAULT_RULES: Partial<Record<Outcome, [number, number]>> = {
  no_answer: [120, 3],
  busy: [15, 3],
  voicemail: [1440, 2],
  answered_by_machine: [240, 3],
  failed: [30, 2],
  canceled: [5, 3],
  call_back: [1440, 2],
};

export function defaultSettings(): SettingsDraft {
  const callingHours = Object.fromEntries(
    DAYS.map(([day], index) => [day, index < 5 ? ["09:00-19:00"] : []]),
  ) as Record<Day, string[]>;
  const retry = Object.fromEntries(
    OUTCOMES.map(([outcome]) => {
      const rule = DEFAULT_RULES[outcome];
      return [outcome, { enabled: rule !== undefined, delayMinutes: String(rule?.[0] ?? 60), maxAttempts: String(rule?.[1] ?? 2) }];
    }),
  ) as Record<Outcome, RetryRuleDraft>;
  return {
    callingHours,
    defaultTimeZone: "UTC",
    defaultRegion: "",
    startsAt: "",
    endsAt: "",
    maxConcurrentCalls: "2",
    callsPerMinute: "10",
    maxTotalAttempts: "6",
    retry,
    voicemailAction: "hang_up",
    voicemailMessage: "",
  };
}

/** A number as typed; what is not a number is sent as typed, for the API to name the field. */
function numeric(text: string): number | string {
  const value = Number(text.trim());
  return text.trim() !== "" && Number.isFinite(value) ? value : text;
}

/** A `datetime-local` value (`2026-12-01T09:00`) in the browser's zone, as an ISO instant. */
export function instant(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

/** The `settings` object of `POST /v1/campaigns`. */
export function settingsBody(draft: SettingsDraft): Record<string, unknown> {
  const calling_hours = Object.fromEntries(
    DAYS.map(([day]) => [day, draft.callingHours[day].map((range) => range.trim()).filter(Boolean)]).filter(
      ([, ranges]) => (ranges as string[]).length > 0,
    ),
  );
  const rules = Object.fromEntries(
    OUTCOMES.filter(([outcome]) => draft.retry[outcome].enabled).map(([outcome]) => [
      outcome,
      { delay_minutes: numeric(draft.retry[outcome].delayMinutes), max_attempts: numeric(draft.retry[outcome].maxAttempts) },
    ]),
  );
  return {
    calling_hours,
    starts_at: instant(draft.startsAt),
    ends_at: instant(draft.endsAt),
    default_time_zone: draft.defaultTimeZone.trim(),
    default_region: draft.defaultRegion.trim() ? draft.defaultRegion.trim().toUpperCase() : null,
    max_concurrent_calls: numeric(draft.maxConcurrentCalls),
    calls_per_minute: numeric(draft.callsPerMinute),
    retry: { max_total_attempts: numeric(draft.maxTotalAttempts), rules },
    voicemail:
      draft.voicemailAction === "leave_message"
        ? { action: "leave_message", message: draft.voicemailMessage }
        : { action: "hang_up" },
  };
}

/** The wizard's step that holds the field at an API error's path (`settings.retry...`). */
export function stepOfField(path: string): "basics" | "schedule" | "dialing" {
  if (path === "name" || path === "agent_id" || path === "agent_phone_number_id") return "basics";
  if (/^settings\.(max_concurrent_calls|calls_per_minute|retry|voicemail)/.test(path)) return "dialing";
  return "schedule";
}
