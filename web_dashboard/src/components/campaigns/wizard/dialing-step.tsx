"use client";

import { Field, Input, Textarea } from "@/components/ui/field";
import { OUTCOMES, type Outcome, type RetryRuleDraft, type SettingsDraft } from "@/lib/campaign-settings";

import type { FieldErrors } from "./campaign-wizard";

/** Pacing, the retry rule of each outcome, and what to do on an answering machine. */
export function DialingStep({
  draft,
  onChange,
  errors,
}: {
  draft: SettingsDraft;
  onChange: (draft: SettingsDraft) => void;
  errors: FieldErrors;
}) {
  const setRule = (outcome: Outcome, change: Partial<RetryRuleDraft>) =>
    onChange({ ...draft, retry: { ...draft.retry, [outcome]: { ...draft.retry[outcome], ...change } } });
  const ruleError = (outcome: Outcome) =>
    Object.entries(errors)
      .filter(([path]) => path.startsWith(`settings.retry.rules.${outcome}`))
      .map(([, message]) => message)
      .join(" ");
  return (
    <div className="space-y-6">
      <section aria-labelledby="pacing-title">
        <h3 id="pacing-title" className="text-sm font-semibold text-ink">
          Pacing
        </h3>
        <div className="mt-3 grid gap-4 sm:grid-cols-3">
          <Field label="Calls at once" hint="1 to 500." error={errors["settings.max_concurrent_calls"]}>
            <Input inputMode="numeric" value={draft.maxConcurrentCalls} onChange={(event) => onChange({ ...draft, maxConcurrentCalls: event.target.value })} />
          </Field>
          <Field label="Calls started per minute" hint="1 to 1000, over any 60 seconds." error={errors["settings.calls_per_minute"]}>
            <Input inputMode="numeric" value={draft.callsPerMinute} onChange={(event) => onChange({ ...draft, callsPerMinute: event.target.value })} />
          </Field>
          <Field label="Attempts per lead at most" hint="Whatever their outcomes; 1 to 20." error={errors["settings.retry.max_total_attempts"]}>
            <Input inputMode="numeric" value={draft.maxTotalAttempts} onChange={(event) => onChange({ ...draft, maxTotalAttempts: event.target.value })} />
          </Field>
        </div>
      </section>
      <section aria-labelledby="retry-title">
        <h3 id="retry-title" className="text-sm font-semibold text-ink">
          Retries by outcome
        </h3>
        <p className="mt-0.5 text-xs text-muted">
          After an attempt ends this way, call the lead again after the delay, as long as fewer than that many attempts ended this way. An outcome left
          unticked is final. Do not call is always final: the number goes on the do-not-call list.
        </p>
        {errors["settings.retry.rules"] ? <p role="alert" className="mt-2 text-xs font-medium text-danger">{errors["settings.retry.rules"]}</p> : null}
        <div className="mt-3 overflow-x-auto rounded-md border border-line">
          <table className="w-full text-left text-sm">
            <thead className="bg-subtle/60 text-xs text-muted">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">Outcome</th>
                <th scope="col" className="px-3 py-2 font-medium">Delay (minutes)</th>
                <th scope="col" className="px-3 py-2 font-medium">Attempts ending this way</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {OUTCOMES.filter(([outcome]) => outcome !== "do_not_call").map(([outcome, label]) => {
                const rule = draft.retry[outcome];
                const error = ruleError(outcome);
                return (
                  <tr key={outcome}>
                    <td className="px-3 py-2">
                      <label className="flex items-center gap-2 text-ink">
                        <input type="checkbox" className="h-4 w-4 accent-[rgb(var(--accent))]" checked={rule.enabled} onChange={(event) => setRule(outcome, { enabled: event.target.checked })} />
                        Retry on {label.toLowerCase()}
                      </label>
                      {error ? <p role="alert" className="mt-1 text-xs font-medium text-danger">{error}</p> : null}
                    </td>
                    <td className="px-3 py-2">
                      <Input
                        aria-label={`Delay in minutes after ${label.toLowerCase()}`}
                        className="h-9 w-28"
                        inputMode="decimal"
                        disabled={!rule.enabled}
                        value={rule.delayMinutes}
                        aria-invalid={error ? true : undefined}
                        onChange={(event) => setRule(outcome, { delayMinutes: event.target.value })}
                      />
                    </td>
                    <td className="px-3 py-2">
                      <Input
                        aria-label={`Attempts ending in ${label.toLowerCase()}`}
                        className="h-9 w-24"
                        inputMode="numeric"
                        disabled={!rule.enabled}
                        value={rule.maxAttempts}
                        aria-invalid={error ? true : undefined}
                        onChange={(event) => setRule(outcome, { maxAttempts: event.target.value })}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="voicemail-title">
        <h3 id="voicemail-title" className="text-sm font-semibold text-ink">
          Voicemail
        </h3>
        <fieldset className="mt-2 space-y-2">
          <legend className="sr-only">On an answering machine</legend>
          {(
            [
              ["hang_up", "Hang up when a machine answers"],
              ["leave_message", "Leave a message after the beep"],
            ] as const
          ).map(([action, label]) => (
            <label key={action} className="flex items-center gap-2 text-sm text-ink">
              <input
                type="radio"
                name="voicemail-action"
                className="h-4 w-4 accent-[rgb(var(--accent))]"
                checked={draft.voicemailAction === action}
                onChange={() => onChange({ ...draft, voicemailAction: action })}
              />
              {label}
            </label>
          ))}
        </fieldset>
        {errors["settings.voicemail"] ? <p role="alert" className="mt-2 text-xs font-medium text-danger">{errors["settings.voicemail"]}</p> : null}
        {draft.voicemailAction === "leave_message" ? (
          <Field className="mt-3" label="Message" hint="Spoken after the beep; the lead's variables can be used, e.g. {{name}}." error={errors["settings.voicemail.message"]}>
            <Textarea value={draft.voicemailMessage} onChange={(event) => onChange({ ...draft, voicemailMessage: event.target.value })} />
          </Field>
        ) : null}
      </section>
    </div>
  );
}
