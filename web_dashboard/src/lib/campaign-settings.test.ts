import { describe, expect, it } from "vitest";

import { defaultSettings, settingsBody, stepOfField } from "./campaign-settings";

describe("a campaign's settings as the API takes them", () => {
  it("sends the API's defaults when nothing is changed", () => {
    const body = settingsBody(defaultSettings());
    expect(body.calling_hours).toEqual({ mon: ["09:00-19:00"], tue: ["09:00-19:00"], wed: ["09:00-19:00"], thu: ["09:00-19:00"], fri: ["09:00-19:00"] });
    expect(body).toMatchObject({ default_time_zone: "UTC", default_region: null, max_concurrent_calls: 2, calls_per_minute: 10, starts_at: null, voicemail: { action: "hang_up" } });
    expect(body.retry).toEqual({
      max_total_attempts: 6,
      rules: {
        no_answer: { delay_minutes: 120, max_attempts: 3 },
        busy: { delay_minutes: 15, max_attempts: 3 },
        voicemail: { delay_minutes: 1440, max_attempts: 2 },
        answered_by_machine: { delay_minutes: 240, max_attempts: 3 },
        failed: { delay_minutes: 30, max_attempts: 2 },
        canceled: { delay_minutes: 5, max_attempts: 3 },
        call_back: { delay_minutes: 1440, max_attempts: 2 },
      },
    });
  });

  it("sends what is not a number as typed, for the API to name the field", () => {
    const draft = { ...defaultSettings(), callsPerMinute: "lots", defaultRegion: "us", voicemailAction: "leave_message" as const, voicemailMessage: "Hi {{name}}" };
    const body = settingsBody(draft);
    expect(body.calls_per_minute).toBe("lots");
    expect(body.default_region).toBe("US");
    expect(body.voicemail).toEqual({ action: "leave_message", message: "Hi {{name}}" });
  });

  it("finds the wizard step of an API error's field", () => {
    expect(stepOfField("agent_id")).toBe("basics");
    expect(stepOfField("settings.retry.rules.busy.max_attempts")).toBe("dialing");
    expect(stepOfField("settings.voicemail")).toBe("dialing");
    expect(stepOfField("settings.calling_hours")).toBe("schedule");
    expect(stepOfField("settings")).toBe("schedule");
  });
});
