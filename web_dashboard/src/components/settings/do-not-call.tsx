"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { ApiError } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Badge, Card } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { formatUnix } from "@/lib/format";

import { CELL, ConfirmRemoval, EmptyState, fieldError, FormError, LoadError, LoadingRows, SectionHeader, TABLE_HEAD, useRemoval } from "./parts";

type Entry = Schemas["DoNotCallResponse"];
const KEYS = ["settings", "do-not-call"] as const;

const SOURCES: Record<string, string> = { api: "Added here or by the API", call: "Asked during a call" };

/** Numbers no campaign dials: add one with a note, remove one. (The API takes one number at a
 * time; there is no file upload.) */
export function DoNotCall({ canWrite }: { canWrite: boolean }) {
  const entries = useQuery({ queryKey: KEYS, queryFn: () => unwrap(api.GET("/v1/do-not-call")) });
  const remove = useRemoval<Entry>({
    remove: (entry) => unwrap(api.DELETE("/v1/do-not-call/{phone_number}", { params: { path: { phone_number: entry.phone_number } } })),
    invalidates: KEYS,
  });
  const rows = entries.data ?? [];

  return (
    <section aria-labelledby="settings-title">
      <SectionHeader
        title="Do-not-call list"
        description="Campaigns check every number against this list before they dial. Callers who ask not to be called again during a call are added by the call's analysis."
      />
      {canWrite ? <AddNumber /> : null}
      {entries.isPending ? (
        <LoadingRows what="do-not-call numbers" />
      ) : entries.error ? (
        <LoadError what="do-not-call numbers" error={entries.error} retry={() => void entries.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No numbers on the list">
          {canWrite ? "Add a number above, in international format." : "A manager or an admin can add numbers."}
        </EmptyState>
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Numbers on the do-not-call list</caption>
            <thead className={TABLE_HEAD}>
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">Number</th>
                <th scope="col" className="px-5 py-3 font-medium">Note</th>
                <th scope="col" className="hidden px-5 py-3 font-medium md:table-cell">Added</th>
                {canWrite ? <th scope="col" className="px-5 py-3 font-medium"><span className="sr-only">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((entry) => (
                <tr key={entry.phone_number}>
                  <td className={`${CELL} whitespace-nowrap font-mono text-ink`}>{entry.phone_number}</td>
                  <td className={`${CELL} text-muted`}>
                    {entry.note || "—"}
                    <div className="mt-1">
                      <Badge>{SOURCES[entry.source] ?? entry.source}</Badge>
                    </div>
                  </td>
                  <td className={`${CELL} hidden whitespace-nowrap text-muted md:table-cell`}>{formatUnix(entry.created_at_unix_secs)}</td>
                  {canWrite ? (
                    <td className={`${CELL} text-right`}>
                      <Button variant="secondary" size="sm" onClick={() => remove.ask(entry)} aria-label={`Remove ${entry.phone_number}`}>
                        Remove
                      </Button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
      <ConfirmRemoval
        removal={remove}
        title={(entry) => `Remove ${entry.phone_number}?`}
        description="Campaigns may dial this number again. If the person asked not to be called, keep it on the list."
        confirmLabel="Remove number"
      />
    </section>
  );
}

function AddNumber() {
  const client = useQueryClient();
  const [number, setNumber] = useState("");
  const [note, setNote] = useState("");
  const add = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/do-not-call", { body: { phone_number: number.trim(), note: note.trim() } })),
    onSuccess: async () => {
      setNumber("");
      setNote("");
      await client.invalidateQueries({ queryKey: KEYS });
    },
  });
  // The API says "invalid_phone_number" without naming the field: it is this one.
  const numberError = fieldError(add.error, "phone_number") ?? (add.error instanceof ApiError && add.error.code === "invalid_phone_number" ? add.error.message : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    add.mutate();
  }

  return (
    <form onSubmit={submit} className="mb-5 rounded-lg border border-line bg-surface p-4 shadow-sm" aria-label="Add a number">
      <div className="grid gap-4 md:grid-cols-[minmax(0,14rem)_minmax(0,1fr)_auto] md:items-start">
        <Field label="Phone number" hint="International format, e.g. +14155550100." error={numberError}>
          <Input value={number} onChange={(event) => setNumber(event.target.value)} maxLength={40} inputMode="tel" />
        </Field>
        <Field label="Note" hint="Why, for whoever reads this later (optional)." error={fieldError(add.error, "note")}>
          <Input value={note} onChange={(event) => setNote(event.target.value)} maxLength={500} />
        </Field>
        <Button type="submit" className="md:mt-7" busy={add.isPending} disabled={!number.trim()}>
          Add to list
        </Button>
      </div>
      {numberError ? null : (
        <div className="mt-3">
          <FormError error={add.error} fields={["phone_number", "note"]} />
        </div>
      )}
    </form>
  );
}
