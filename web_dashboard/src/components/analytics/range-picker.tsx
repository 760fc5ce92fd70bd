"use client";

import { useMemo, useState } from "react";

import { Field, Input, Select } from "@/components/ui/field";
import { PRESETS, presetRange, rangeProblem, timeZones, type AnalyticsRange, type PresetId } from "@/lib/analytics-range";

/**
 * The period and time zone the figures are for: a preset, or two days picked (applied as soon
 * as they make a period; what is wrong with them said beside them).
 */
export function RangePicker({ range, ownZone, onChange }: { range: AnalyticsRange; ownZone: string; onChange: (range: AnalyticsRange) => void }) {
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  const [custom, setCustom] = useState(range.preset === "custom");
  const zones = useMemo(() => timeZones(ownZone), [ownZone]);
  const problem = custom ? rangeProblem(from, to) : null;

  const pickDays = (nextFrom: string, nextTo: string) => {
    setFrom(nextFrom);
    setTo(nextTo);
    if (!rangeProblem(nextFrom, nextTo)) onChange({ preset: "custom", from: nextFrom, to: nextTo, timeZone: range.timeZone });
  };

  return (
    <div className="flex flex-wrap items-start gap-3">
      <Field label="Period" className="w-44">
        <Select
          value={custom ? "custom" : range.preset}
          onChange={(event) => {
            const value = event.target.value;
            if (value === "custom") {
              setCustom(true);
              setFrom(range.from);
              setTo(range.to);
              onChange({ ...range, preset: "custom" });
            } else {
              setCustom(false);
              const next = presetRange(value as PresetId, range.timeZone);
              setFrom(next.from);
              setTo(next.to);
              onChange(next);
            }
          }}
        >
          {PRESETS.map((preset) => (
            <option key={preset.id} value={preset.id}>
              {preset.label}
            </option>
          ))}
          <option value="custom">Custom days</option>
        </Select>
      </Field>
      {custom ? (
        <>
          <Field label="From" className="w-40" error={problem ?? undefined}>
            <Input type="date" value={from} max={to || undefined} onChange={(event) => pickDays(event.target.value, to)} />
          </Field>
          <Field label="To" className="w-40">
            <Input type="date" value={to} min={from || undefined} onChange={(event) => pickDays(from, event.target.value)} />
          </Field>
        </>
      ) : null}
      <Field label="Time zone" className="w-56" hint={range.timeZone === ownZone ? "Your browser's" : undefined}>
        <Select
          value={range.timeZone}
          onChange={(event) => {
            const timeZone = event.target.value;
            onChange(range.preset === "custom" ? { ...range, timeZone } : presetRange(range.preset, timeZone));
          }}
        >
          {zones.map((zone) => (
            <option key={zone} value={zone}>
              {zone.replace(/_/g, " ")}
            </option>
          ))}
        </Select>
      </Field>
    </div>
  );
}
