"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Badge, Card } from "@/components/ui/card";
import { Dialog, DialogClose } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { formatUnix } from "@/lib/format";
import { settingsHref } from "@/lib/settings-sections";

import { ConfirmRemoval, EmptyState, fieldError, FormError, LoadError, LoadingRows, OneTimeSecret, SectionHeader, useRemoval } from "./parts";

type Webhook = Schemas["WebhookResponse"];
type EventType = "call_started" | "call_ended" | "analysis_ready" | "campaign_completed";
export const WEBHOOKS_KEY = ["settings", "webhooks"] as const;
const EVENTS: readonly { value: EventType; label: string }[] = [
  { value: "call_started", label: "A call started" },
  { value: "call_ended", label: "A call ended" },
  { value: "analysis_ready", label: "A call's analysis is ready" },
  { value: "campaign_completed", label: "A campaign completed" },
];

/** Webhook endpoints: add one (its signing secret shown once), pause or resume it, delete it,
 * and open its delivery log. */
export function Webhooks({ canWrite }: { canWrite: boolean }) {
  const client = useQueryClient();
  const [adding, setAdding] = useState(false);
  const hooks = useQuery({ queryKey: WEBHOOKS_KEY, queryFn: () => unwrap(api.GET("/v1/workspace/webhooks")) });
  const remove = useRemoval<Webhook>({
    remove: (hook) => unwrap(api.DELETE("/v1/workspace/webhooks/{webhook_id}", { params: { path: { webhook_id: hook.webhook_id } } })),
    invalidates: WEBHOOKS_KEY,
  });
  const toggle = useMutation({
    mutationFn: (hook: Webhook) =>
      unwrap(
        api.PATCH("/v1/workspace/webhooks/{webhook_id}", {
          params: { path: { webhook_id: hook.webhook_id } },
          body: { is_disabled: !hook.is_disabled },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: WEBHOOKS_KEY }),
  });
  const rows = hooks.data?.webhooks ?? [];
  const add = canWrite ? <Button onClick={() => setAdding(true)}>Add a webhook</Button> : null;

  return (
    <section aria-labelledby="settings-title">
      <SectionHeader
        title="Webhooks"
        description="Velox POSTs each event to your endpoint as JSON, signed in the ElevenLabs-Signature header with the endpoint's secret, and retries until it answers 2xx."
        action={add}
      />
      {toggle.error ? <p role="alert" className="mb-4 text-sm font-medium text-danger">{errorMessage(toggle.error)}</p> : null}
      {hooks.isPending ? (
        <LoadingRows what="webhooks" />
      ) : hooks.error ? (
        <LoadError what="webhooks" error={hooks.error} retry={() => void hooks.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No webhooks yet" action={add}>
          A webhook tells your systems when calls start and end, when an analysis is ready and when a campaign completes.
        </EmptyState>
      ) : (
        <Card>
          <ul className="divide-y divide-line">
            {rows.map((hook) => (
              <li key={hook.webhook_id} className="flex flex-wrap items-start gap-4 px-5 py-4">
                <div className="min-w-0 flex-1">
                  <p className="font-medium text-ink">
                    {hook.name}{" "}
                    {hook.is_disabled ? <Badge tone="warning">Paused</Badge> : <Badge tone="success">Active</Badge>}
                  </p>
                  <p className="mt-0.5 break-all font-mono text-xs text-muted">{hook.webhook_url}</p>
                  <p className="mt-1 text-xs text-muted">{hook.events.join(", ")}</p>
                  {hook.most_recent_failure_timestamp ? (
                    <p className="mt-1 text-xs font-medium text-danger">
                      Last failure {formatUnix(hook.most_recent_failure_timestamp)}
                      {hook.most_recent_failure_error_code ? ` (HTTP ${hook.most_recent_failure_error_code})` : ""}
                    </p>
                  ) : null}
                </div>
                <div className="flex flex-wrap justify-end gap-2">
                  <Button asChild variant="secondary" size="sm">
                    <Link href={settingsHref("webhooks", hook.webhook_id)} aria-label={`Delivery log of ${hook.name}`}>
                      Delivery log
                    </Link>
                  </Button>
                  {canWrite ? (
                    <>
                      <Button variant="secondary" size="sm" busy={toggle.isPending && toggle.variables?.webhook_id === hook.webhook_id} onClick={() => toggle.mutate(hook)} aria-label={`${hook.is_disabled ? "Resume" : "Pause"} ${hook.name}`}>
                        {hook.is_disabled ? "Resume" : "Pause"}
                      </Button>
                      <Button variant="ghost" size="sm" onClick={() => remove.ask(hook)} aria-label={`Delete ${hook.name}`}>
                        Delete
                      </Button>
                    </>
                  ) : null}
                </div>
              </li>
            ))}
          </ul>
        </Card>
      )}
      {canWrite ? <AddWebhookDialog open={adding} onOpenChange={setAdding} /> : null}
      <ConfirmRemoval
        removal={remove}
        title={(hook) => `Delete “${hook.name}”?`}
        description="Nothing more is sent to it, deliveries not yet sent included, and its delivery log goes with it."
        confirmLabel="Delete webhook"
      />
    </section>
  );
}

function AddWebhookDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<EventType[]>(EVENTS.map((event) => event.value));
  const create = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/v1/workspace/webhooks", { body: { settings: { auth_type: "hmac", name: name.trim(), webhook_url: url.trim() }, events } })),
    onSuccess: () => client.invalidateQueries({ queryKey: WEBHOOKS_KEY }),
  });

  function close(next: boolean) {
    if (!next) {
      create.reset();
      setName("");
      setUrl("");
      setEvents(EVENTS.map((event) => event.value));
    }
    onOpenChange(next);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  const created = create.data;
  return (
    <Dialog open={open} onOpenChange={close} title={created ? "Webhook added" : "Add a webhook"} description={created ? "Check each request's signature with this secret." : "Where to send events, and which."}>
      {created ? (
        <div className="space-y-5">
          <OneTimeSecret label="Signing secret" value={created.webhook_secret} note="Copy it now: it is shown only this once. Without it your endpoint cannot tell Velox's requests from anyone's." />
          <div className="flex justify-end">
            <Button type="button" onClick={() => close(false)}>Done</Button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-5">
          <Field label="Name" hint="For you, e.g. “CRM”." error={fieldError(create.error, "settings.name")}>
            <Input value={name} onChange={(event) => setName(event.target.value)} maxLength={200} autoFocus />
          </Field>
          <Field label="Endpoint URL" hint="An http or https address that answers 2xx." error={fieldError(create.error, "settings.webhook_url")}>
            <Input type="url" value={url} onChange={(event) => setUrl(event.target.value)} placeholder="https://crm.example.com/velox" />
          </Field>
          <fieldset className="space-y-1.5">
            <legend className="text-sm font-medium text-ink">Events</legend>
            {EVENTS.map((item) => (
              <label key={item.value} className="flex items-center gap-2 text-sm text-ink">
                <input
                  type="checkbox"
                  checked={events.includes(item.value)}
                  onChange={(event) => setEvents((chosen) => (event.target.checked ? [...chosen, item.value] : chosen.filter((value) => value !== item.value)))}
                />
                {item.label} <span className="font-mono text-xs text-muted">{item.value}</span>
              </label>
            ))}
            {fieldError(create.error, "events") ? <p role="alert" className="text-xs font-medium text-danger">{fieldError(create.error, "events")}</p> : null}
          </fieldset>
          <FormError error={create.error} fields={["settings.name", "settings.webhook_url", "events"]} />
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button type="button" variant="secondary">Cancel</Button>
            </DialogClose>
            <Button type="submit" busy={create.isPending} disabled={!name.trim() || !url.trim() || events.length === 0}>
              Add webhook
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
