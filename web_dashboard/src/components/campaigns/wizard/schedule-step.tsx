"use client";

import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { DAYS, type Day, type SettingsDraft } from "@/lib/campaign-settings";

import type { FieldErrors } from "./campaign-wizard";

const ZONES: string[] = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];

/** Calling hours per weekday in each lead's own time zone, the default zone and region, and when the campaign runs. */
export function ScheduleStep({
  draft,
  onChange,
  errors,
}: {
  draft: SettingsDraft;
  onChange: (draft: SettingsDraft) => void;
  errors: FieldErrors;
}) {
  const setDay = (day: Day, ranges: string[]) => onChange({ ...draft, callingHours: { ...draft.callingHours, [day]: ranges } });
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const hoursError = errors["settings.calling_hours"] ?? errors.settings;
  return (
    <div className="space-y-6">
      <section aria-labelledby="hours-title">
        <h3 id="hours-title" className="text-sm font-semibold text-ink">
          Calling hours
        </h3>
        <p className="mt-0.5 text-xs text-muted">
          In each lead’s own local time (from the row’s time zone, else from the number, else the default zone below), so 09:00 is nine in the
          morning wherever the lead is. A range stays within one day (24:00 may end it); a day with no range gets no calls.
        </p>
        {hoursError ? (
          <Alert className="mt-3" title="Calling hours">
            {hoursError}
          </Alert>
        ) : null}
        <div className="mt-3 divide-y divide-line rounded-md border border-line">
          {DAYS.map(([day, label]) => {
            const ranges = draft.callingHours[day];
            return (
              <div key={day} className="flex flex-wrap items-center gap-3 px-3 py-2.5">
                <span className="w-24 text-sm font-medium text-ink">{label}</span>
                {ranges.length === 0 ? <span className="text-sm text-muted">No calls</span> : null}
                {ranges.map((range, index) => (
                  <div key={index} className="flex items-center gap-1">
                    <label className="sr-only" htmlFor={`hours-${day}-${index}`}>
                      {label} range {index + 1}
                    </label>
                    <Input
                      id={`hours-${day}-${index}`}
                      className="h-9 w-32 font-mono"
                      value={range}
                      placeholder="09:00-17:00"
                      aria-invalid={errors[`settings.calling_hours.${day}`] ? true : undefined}
                      onChange={(event) => setDay(day, ranges.map((r, i) => (i === index ? event.target.value : r)))}
                    />
                    <Button
                      type="button"
                      variant="ghost"
                      size="sm"
                      aria-label={`Remove ${label} range ${index + 1}`}
                      onClick={() => setDay(day, ranges.filter((_, i) => i !== index))}
                    >
                      ×
                    </Button>
                  </div>
                ))}
                <Button type="button" variant="secondary" size="sm" className="ml-auto" onClick={() => setDay(day, [...ranges, "09:00-17:00"])}>
                  Add range<span className="sr-only"> on {label}</span>
                </Button>
              </div>
            );
          })}
        </div>
      </section>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Default time zone" hint="For a lead whose row names no zone and whose number does not tell one." error={errors["settings.default_time_zone"]}>
          <Input list="campaign-zones" value={draft.defaultTimeZone} onChange={(event) => onChange({ ...draft, defaultTimeZone: event.target.value })} />
        </Field>
        <Field label="Default country" hint="Two letters (US, GB): reads numbers written without their country code." error={errors["settings.default_region"]}>
          <Input maxLength={2} value={draft.defaultRegion} placeholder="US" onChange={(event) => onChange({ ...draft, defaultRegion: event.target.value })} />
        </Field>
        <datalist id="campaign-zones">
          {ZONES.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
      </div>
      <section aria-labelledby="schedule-title">
        <h3 id="schedule-title" className="text-sm font-semibold text-ink">
          Schedule
        </h3>
        <p className="mt-0.5 text-xs text-muted">Times in your browser’s zone ({browserZone}). Empty: start when you press Start, run until every lead is finished.</p>
        <div className="mt-3 grid gap-4 sm:grid-cols-2">
          <Field label="Starts at" error={errors["settings.starts_at"]}>
            <Input type="datetime-local" value={draft.startsAt} onChange={(event) => onChange({ ...draft, startsAt: event.target.value })} />
          </Field>
          <Field label="Ends at" error={errors["settings.ends_at"]}>
            <Input type="datetime-local" value={draft.endsAt} onChange={(event) => onChange({ ...draft, endsAt: event.target.value })} />
          </Field>
        </div>
      </section>
    </div>
  );
}
