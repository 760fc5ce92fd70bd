"use client";

import { useEffect, useState, type ReactNode } from "react";

import { Button } from "@/components/ui/button";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { SwitchField } from "@/components/ui/switch";
import { freshKey, renameKey } from "@/lib/agent-draft";

import { useEditor, useFieldError } from "./context";

export function Section({ id, title, description, children }: { id: string; title: string; description: string; children: ReactNode }) {
  return (
    <section id={id} aria-labelledby={`${id}-title`} className="scroll-mt-24 rounded-lg border border-line bg-surface shadow-sm">
      <header className="border-b border-line px-6 py-4">
        <h2 id={`${id}-title`} className="text-base font-semibold text-ink">
          {title}
        </h2>
        <p className="mt-0.5 text-sm text-muted">{description}</p>
      </header>
      <div className="space-y-5 px-6 py-5">{children}</div>
    </section>
  );
}

export function Grid({ children }: { children: ReactNode }) {
  return <div className="grid gap-5 sm:grid-cols-2">{children}</div>;
}

export function SubHeading({ children }: { children: ReactNode }) {
  return <h3 className="pt-2 text-sm font-semibold text-ink">{children}</h3>;
}

export function TextField({
  label,
  path,
  value,
  onChange,
  hint,
  placeholder,
  list,
  mono,
}: {
  label: string;
  path: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  placeholder?: string;
  list?: string;
  mono?: boolean;
}) {
  const { readOnly } = useEditor();
  return (
    <Field label={label} hint={hint} error={useFieldError(path)}>
      <Input value={value} onChange={(event) => onChange(event.target.value)} placeholder={placeholder} list={list} readOnly={readOnly} className={mono ? "font-mono" : undefined} />
    </Field>
  );
}

export function TextAreaField({
  label,
  path,
  value,
  onChange,
  hint,
  rows = 3,
  mono,
}: {
  label: string;
  path: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  rows?: number;
  mono?: boolean;
}) {
  const { readOnly } = useEditor();
  return (
    <Field label={label} hint={hint} error={useFieldError(path)}>
      <Textarea value={value} onChange={(event) => onChange(event.target.value)} rows={rows} readOnly={readOnly} className={mono ? "font-mono text-[13px]" : undefined} />
    </Field>
  );
}

/**
 * A number. A cleared box is sent as it is (an empty string), so the API's own message for it
 * appears under the field instead of a value silently reverting.
 */
export function NumberField({
  label,
  path,
  value,
  onChange,
  hint,
  unit,
  step,
}: {
  label: string;
  path: string;
  value: number;
  onChange: (value: number) => void;
  hint?: ReactNode;
  unit?: string;
  step?: number;
}) {
  const { readOnly } = useEditor();
  const shown = typeof value === "number" && Number.isFinite(value) ? String(value) : "";
  return (
    <Field label={unit ? `${label} (${unit})` : label} hint={hint} error={useFieldError(path)}>
      <Input
        type="number"
        inputMode="decimal"
        step={step ?? "any"}
        value={shown}
        readOnly={readOnly}
        onChange={(event) => {
          const text = event.target.value;
          onChange(text === "" ? (text as unknown as number) : Number(text));
        }}
      />
    </Field>
  );
}

export function ToggleField({
  label,
  path,
  checked,
  onChange,
  hint,
}: {
  label: string;
  path: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
}) {
  const { readOnly } = useEditor();
  return <SwitchField label={label} hint={hint} checked={checked} onCheckedChange={onChange} disabled={readOnly} error={useFieldError(path)} />;
}

export function SelectField<T extends string>({
  label,
  path,
  value,
  options,
  onChange,
  hint,
}: {
  label: string;
  path: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
  hint?: ReactNode;
}) {
  const { readOnly } = useEditor();
  return (
    <Field label={label} hint={hint} error={useFieldError(path)}>
      <Select value={value} disabled={readOnly} onChange={(event) => onChange(event.target.value as T)}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </Select>
    </Field>
  );
}

/** A list of words or names, written comma-separated. */
export function ListField({
  label,
  path,
  value,
  onChange,
  hint,
  placeholder,
}: {
  label: string;
  path: string;
  value: string[];
  onChange: (value: string[]) => void;
  hint?: ReactNode;
  placeholder?: string;
}) {
  const { readOnly } = useEditor();
  const [text, setText] = useState(value.join(", "));
  useEffect(() => {
    // Follow the draft when it changes from outside (a reload, a discard), not while typing.
    setText((current) => (splitList(current).join("\u0000") === value.join("\u0000") ? current : value.join(", ")));
  }, [value]);
  return (
    <Field label={label} hint={hint} error={useFieldError(path)}>
      <Input
        value={text}
        placeholder={placeholder}
        readOnly={readOnly}
        onChange={(event) => {
          setText(event.target.value);
          onChange(splitList(event.target.value));
        }}
      />
    </Field>
  );
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

/**
 * A list that may also be left to Velox (null): the language's defaults, the offline fallback.
 * Choosing "own" starts from an empty list, which itself means "none".
 */
export function DefaultableListField({
  label,
  path,
  value,
  onChange,
  defaultLabel,
  ownLabel,
  hint,
  placeholder,
}: {
  label: string;
  path: string;
  value: string[] | null | undefined;
  onChange: (value: string[] | null) => void;
  defaultLabel: string;
  ownLabel: string;
  hint?: ReactNode;
  placeholder?: string;
}) {
  const { readOnly } = useEditor();
  const own = Array.isArray(value);
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-ink">{label}</legend>
      <div className="flex flex-wrap gap-x-5 gap-y-1 text-sm">
        <label className="inline-flex items-center gap-2 text-ink">
          <input type="radio" className="accent-[rgb(var(--accent))]" checked={!own} disabled={readOnly} onChange={() => onChange(null)} />
          {defaultLabel}
        </label>
        <label className="inline-flex items-center gap-2 text-ink">
          <input type="radio" className="accent-[rgb(var(--accent))]" checked={own} disabled={readOnly} onChange={() => onChange([])} />
          {ownLabel}
        </label>
      </div>
      {own ? <ListField label={`${label}: list`} path={path} value={value} onChange={onChange} hint={hint} placeholder={placeholder} /> : null}
      {!own && hint ? <p className="text-xs text-muted">{hint}</p> : null}
    </fieldset>
  );
}

/** Named values (dynamic variables, fallback voices): one row per name, added and removed. */
export function KeyValueEditor({
  label,
  path,
  value,
  onChange,
  keyLabel,
  valueLabel,
  addLabel,
  newKey,
  hint,
  empty,
}: {
  label: string;
  path: string;
  value: Record<string, string>;
  onChange: (value: Record<string, string>) => void;
  keyLabel: string;
  valueLabel: string;
  addLabel: string;
  newKey: string;
  hint?: ReactNode;
  empty: string;
}) {
  const { readOnly } = useEditor();
  const error = useFieldError(path);
  const entries = Object.entries(value);
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-ink">{label}</legend>
      {hint ? <p className="text-xs leading-relaxed text-muted">{hint}</p> : null}
      {entries.length === 0 ? <p className="rounded-md border border-dashed border-line px-3 py-2.5 text-sm text-muted">{empty}</p> : null}
      {entries.map(([key, item], index) => (
        <div key={index} className="grid grid-cols-[1fr_1.4fr_auto] items-center gap-2">
          <Input aria-label={`${keyLabel} ${index + 1}`} className="font-mono" value={key} readOnly={readOnly} onChange={(event) => onChange(renameKey(value, key, event.target.value))} />
          <Input aria-label={`${valueLabel} ${index + 1}`} value={item} readOnly={readOnly} onChange={(event) => onChange({ ...value, [key]: event.target.value })} />
          <RemoveButton label={`Remove ${key || `row ${index + 1}`}`} disabled={readOnly} onClick={() => onChange(Object.fromEntries(entries.filter(([other]) => other !== key)))} />
        </div>
      ))}
      {error ? (
        <p role="alert" className="text-xs font-medium text-danger">
          {error}
        </p>
      ) : null}
      {readOnly ? null : (
        <Button type="button" variant="secondary" size="sm" onClick={() => onChange({ ...value, [freshKey(newKey, Object.keys(value))]: "" })}>
          {addLabel}
        </Button>
      )}
    </fieldset>
  );
}

export function RemoveButton({ label, onClick, disabled }: { label: string; onClick: () => void; disabled?: boolean }) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      disabled={disabled}
      onClick={onClick}
      className="inline-flex h-10 w-10 items-center justify-center rounded-md text-muted hover:bg-subtle hover:text-danger disabled:opacity-40"
    >
      <svg viewBox="0 0 20 20" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true">
        <path d="M5 5l10 10M15 5L5 15" strokeLinecap="round" />
      </svg>
    </button>
  );
}
