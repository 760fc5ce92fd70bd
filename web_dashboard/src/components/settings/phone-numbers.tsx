"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Dialog, DialogClose } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";

import { CELL, ConfirmRemoval, EmptyState, fieldError, FormError, LoadError, LoadingRows, SectionHeader, TABLE_HEAD, useRemoval } from "./parts";

type PhoneNumber = Schemas["PhoneNumberResponse"];
const KEYS = ["settings", "phone-numbers"] as const;

/** The organization's agents by name, for choosing who answers a number (the first 100). */
function useAgentChoices(enabled: boolean) {
  return useQuery({
    queryKey: ["agents", "choices"],
    enabled,
    queryFn: () => unwrap(api.GET("/v1/convai/agents", { params: { query: { page_size: 100 } } })),
    select: (page) => page.agents.map((agent) => ({ id: agent.agent_id, name: agent.name })),
  });
}

/** Twilio numbers: add one, choose the agent that answers it, delete it. */
export function PhoneNumbers({ canWrite }: { canWrite: boolean }) {
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<PhoneNumber | null>(null);
  const numbers = useQuery({ queryKey: KEYS, queryFn: () => unwrap(api.GET("/v1/convai/phone-numbers")) });
  const remove = useRemoval<PhoneNumber>({
    remove: (number) => unwrap(api.DELETE("/v1/convai/phone-numbers/{phone_number_id}", { params: { path: { phone_number_id: number.phone_number_id } } })),
    invalidates: KEYS,
  });
  const rows = numbers.data ?? [];
  const add = canWrite ? <Button onClick={() => setAdding(true)}>Add a Twilio number</Button> : null;

  return (
    <section aria-labelledby="settings-title">
      <SectionHeader
        title="Phone numbers"
        description="Calls to these numbers reach the agent each one names. Point the number's voice webhook in Twilio at this server's /twilio/voice."
        action={add}
      />
      {numbers.isPending ? (
        <LoadingRows what="phone numbers" />
      ) : numbers.error ? (
        <LoadError what="phone numbers" error={numbers.error} retry={() => void numbers.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No phone numbers yet" action={add}>
          {canWrite ? "Add a number you own in Twilio, then choose the agent that answers it." : "A manager or an admin can add one."}
        </EmptyState>
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Phone numbers</caption>
            <thead className={TABLE_HEAD}>
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">Number</th>
                <th scope="col" className="px-5 py-3 font-medium">Answered by</th>
                {canWrite ? <th scope="col" className="px-5 py-3 font-medium"><span className="sr-only">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((number) => (
                <tr key={number.phone_number_id}>
                  <td className={CELL}>
                    <p className="font-mono font-medium text-ink">{number.phone_number}</p>
                    <p className="mt-0.5 text-xs text-muted">
                      {number.label || "No label"} · {number.provider}
                    </p>
                  </td>
                  <td className={CELL}>
                    {number.assigned_agent ? (
                      <Link className="font-medium text-accent hover:underline" href={`/agents/edit/?id=${encodeURIComponent(number.assigned_agent.agent_id)}`}>
                        {number.assigned_agent.agent_name}
                      </Link>
                    ) : (
                      <span className="text-warning">No agent: calls to it are refused</span>
                    )}
                  </td>
                  {canWrite ? (
                    <td className={CELL}>
                      <div className="flex justify-end gap-2">
                        <Button variant="secondary" size="sm" onClick={() => setEditing(number)} aria-label={`Edit ${number.phone_number}`}>
                          Edit
                        </Button>
                        <Button variant="ghost" size="sm" onClick={() => remove.ask(number)} aria-label={`Delete ${number.phone_number}`}>
                          Delete
                        </Button>
                      </div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
      {canWrite ? <NumberDialog open={adding} onClose={() => setAdding(false)} /> : null}
      {canWrite && editing ? <NumberDialog key={editing.phone_number_id} open number={editing} onClose={() => setEditing(null)} /> : null}
      <ConfirmRemoval
        removal={remove}
        title={(number) => `Delete ${number.phone_number}?`}
        description="Calls to it are no longer answered by Velox, and campaigns cannot dial from it. The number stays yours in Twilio."
        confirmLabel="Delete number"
      />
    </section>
  );
}

/** Adds a number (`number` absent) or edits one's label and agent. */
function NumberDialog({ open, number, onClose }: { open: boolean; number?: PhoneNumber; onClose: () => void }) {
  const client = useQueryClient();
  const agents = useAgentChoices(open);
  const [phone, setPhone] = useState(number?.phone_number ?? "");
  const [label, setLabel] = useState(number?.label ?? "");
  const [agentId, setAgentId] = useState(number?.assigned_agent?.agent_id ?? "");
  const save = useMutation({
    mutationFn: async () => {
      if (number) {
        await unwrap(
          api.PATCH("/v1/convai/phone-numbers/{phone_number_id}", {
            params: { path: { phone_number_id: number.phone_number_id } },
            body: { label: label.trim(), agent_id: agentId || null },
          }),
        );
      } else {
        await unwrap(
          api.POST("/v1/convai/phone-numbers", {
            body: { phone_number: phone.trim(), label: label.trim(), provider: "twilio", agent_id: agentId || null },
          }),
        );
      }
    },
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: KEYS });
      setPhone("");
      setLabel("");
      setAgentId("");
      onClose();
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next) {
          save.reset();
          onClose();
        }
      }}
      title={number ? `Edit ${number.phone_number}` : "Add a Twilio number"}
      description={number ? "Choose who answers it." : "A number you own in Twilio; this server's Twilio account settings are used to reach it."}
    >
      <form onSubmit={submit} className="space-y-5">
        {number ? null : (
          <Field label="Phone number" hint="International format, e.g. +14155550100." error={fieldError(save.error, "phone_number")}>
            <Input value={phone} onChange={(event) => setPhone(event.target.value)} inputMode="tel" maxLength={16} autoFocus />
          </Field>
        )}
        <Field label="Label" hint="For you, e.g. “Main line” (optional)." error={fieldError(save.error, "label")}>
          <Input value={label} onChange={(event) => setLabel(event.target.value)} maxLength={200} />
        </Field>
        <Field
          label="Answering agent"
          hint={agents.error ? `The agents could not be loaded: ${errorMessage(agents.error)}` : "Without one, calls to the number are refused."}
          error={fieldError(save.error, "agent_id")}
        >
          <Select value={agentId} onChange={(event) => setAgentId(event.target.value)} disabled={agents.isPending}>
            <option value="">{agents.isPending ? "Loading agents…" : "No agent"}</option>
            {(agents.data ?? []).map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </Select>
        </Field>
        <FormError error={save.error} fields={["phone_number", "label", "agent_id"]} />
        <div className="flex justify-end gap-2">
          <DialogClose asChild>
            <Button type="button" variant="secondary">
              Cancel
            </Button>
          </DialogClose>
          <Button type="submit" busy={save.isPending} disabled={!number && !phone.trim()}>
            {number ? "Save" : "Add number"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
