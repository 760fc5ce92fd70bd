"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { Button } from "@/components/ui/button";
import { Badge, Card } from "@/components/ui/card";
import { Dialog, DialogClose } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { formatUnix } from "@/lib/format";

import { CELL, ConfirmRemoval, EmptyState, fieldError, FormError, LoadError, LoadingRows, OneTimeSecret, SectionHeader, TABLE_HEAD, useRemoval } from "./parts";

type ApiKey = Schemas["ApiKeyResponse"];
type Permission = Schemas["Permission"];
const KEYS = ["settings", "api-keys"] as const;

/** The scopes a key may be narrowed to, as people read them (`me` is always allowed); a
 * Record, so a permission the API adds fails the typecheck until it is named here. */
const SCOPE_LABELS: Record<Exclude<Permission, "me">, string> = {
  "agents:read": "Read agents",
  "agents:write": "Change agents",
  "numbers:read": "Read phone numbers",
  "numbers:write": "Change phone numbers",
  "campaigns:read": "Read campaigns",
  "campaigns:write": "Change campaigns",
  "calls:read": "Read calls",
  "calls:place": "Place calls",
  "calls:feedback": "Leave call feedback",
  "calls:delete": "Delete calls",
  "calls:end": "End live calls",
  "analytics:read": "Read analytics",
  "conversations:start": "Start conversations",
  "leads:own": "Work own leads",
  "webhooks:read": "Read webhooks",
  "webhooks:write": "Change webhooks",
  "provider_keys": "Provider keys",
  "api_keys": "API keys",
  "users": "Users",
  "audit:read": "Read the audit log",
};
export const SCOPES = Object.entries(SCOPE_LABELS).map(([value, label]) => ({ value: value as Permission, label }));

/** The organization's API keys: create (the key shown once), scopes, revoke. */
export function ApiKeys() {
  const [creating, setCreating] = useState(false);
  const keys = useQuery({ queryKey: KEYS, queryFn: () => unwrap(api.GET("/v1/api-keys")) });
  const revoke = useRemoval<ApiKey>({
    remove: (key) => unwrap(api.DELETE("/v1/api-keys/{key_id}", { params: { path: { key_id: key.key_id } } })),
    invalidates: KEYS,
  });
  const rows = keys.data?.api_keys ?? [];
  const newKey = (
    <Button onClick={() => setCreating(true)}>New API key</Button>
  );

  return (
    <section aria-labelledby="settings-title">
      <SectionHeader
        title="API keys"
        description="Programs call the Velox API with a key in the xi-api-key header. A key is shown once, when it is created; Velox keeps only its first characters."
        action={newKey}
      />
      {keys.isPending ? (
        <LoadingRows what="API keys" />
      ) : keys.error ? (
        <LoadError what="API keys" error={keys.error} retry={() => void keys.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No API keys" action={newKey}>
          Create a key for each program that calls Velox, so each can be revoked on its own.
        </EmptyState>
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">API keys</caption>
            <thead className={TABLE_HEAD}>
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">Name</th>
                <th scope="col" className="px-5 py-3 font-medium">May</th>
                <th scope="col" className="hidden px-5 py-3 font-medium md:table-cell">Last used</th>
                <th scope="col" className="px-5 py-3 font-medium"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((key) => (
                <tr key={key.key_id} className={key.revoked_at_unix_secs ? "text-muted" : undefined}>
                  <td className={CELL}>
                    <p className="font-medium text-ink">{key.name}</p>
                    <p className="mt-0.5 font-mono text-xs text-muted">{key.key_prefix}…</p>
                    <p className="mt-0.5 text-xs text-muted">Created {formatUnix(key.created_at_unix_secs)}</p>
                  </td>
                  <td className={CELL}>
                    {key.scopes === null ? (
                      <Badge tone="warning">Everything an admin may</Badge>
                    ) : (
                      <div className="flex max-w-md flex-wrap gap-1">
                        {key.scopes.map((scope) => (
                          <Badge key={scope}>{scope}</Badge>
                        ))}
                      </div>
                    )}
                  </td>
                  <td className={`${CELL} hidden whitespace-nowrap text-muted md:table-cell`}>
                    {key.last_used_at_unix_secs ? formatUnix(key.last_used_at_unix_secs) : "Never"}
                  </td>
                  <td className={`${CELL} text-right`}>
                    {key.revoked_at_unix_secs ? (
                      <Badge tone="danger">Revoked {formatUnix(key.revoked_at_unix_secs)}</Badge>
                    ) : (
                      <Button variant="secondary" size="sm" onClick={() => revoke.ask(key)} aria-label={`Revoke ${key.name}`}>
                        Revoke
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
      <CreateKeyDialog open={creating} onOpenChange={setCreating} />
      <ConfirmRemoval
        removal={revoke}
        title={(key) => `Revoke “${key.name}”?`}
        description="Every request made with this key is refused from now on. This cannot be undone: a program that used it needs a new key."
        confirmLabel="Revoke key"
      />
    </section>
  );
}

function CreateKeyDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [restricted, setRestricted] = useState(false);
  const [scopes, setScopes] = useState<Permission[]>([]);
  const create = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/v1/api-keys", { body: { name: name.trim(), scopes: restricted ? scopes : null } })),
    onSuccess: () => client.invalidateQueries({ queryKey: KEYS }),
  });

  function close(next: boolean) {
    if (!next) {
      create.reset();
      setName("");
      setRestricted(false);
      setScopes([]);
    }
    onOpenChange(next);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  const created = create.data;
  return (
    <Dialog
      open={open}
      onOpenChange={close}
      title={created ? "Your new API key" : "New API key"}
      description={created ? `“${created.name}” is ready.` : "Name the program that will use it, and choose what it may do."}
    >
      {created ? (
        <div className="space-y-5">
          <OneTimeSecret label="API key" value={created.api_key} note="Copy it now: it is shown only this once. If it is lost, revoke it and create another." />
          <div className="flex justify-end">
            <Button type="button" onClick={() => close(false)}>
              Done
            </Button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-5">
          <Field label="Key name" hint="Shown in this list and in the audit log, e.g. “CRM sync”." error={fieldError(create.error, "name")}>
            <Input value={name} onChange={(event) => setName(event.target.value)} maxLength={200} autoFocus />
          </Field>
          <fieldset className="space-y-2">
            <legend className="text-sm font-medium text-ink">What it may do</legend>
            <label className="flex items-center gap-2 text-sm text-ink">
              <input type="radio" name="key-scope" checked={!restricted} onChange={() => setRestricted(false)} />
              Everything an admin may
            </label>
            <label className="flex items-center gap-2 text-sm text-ink">
              <input type="radio" name="key-scope" checked={restricted} onChange={() => setRestricted(true)} />
              Only what I choose
            </label>
            {restricted ? (
              <div className="grid max-h-48 grid-cols-1 gap-1 overflow-y-auto rounded-md border border-line p-3 sm:grid-cols-2">
                {SCOPES.map((scope) => (
                  <label key={scope.value} className="flex items-center gap-2 text-sm text-ink">
                    <input
                      type="checkbox"
                      checked={scopes.includes(scope.value)}
                      onChange={(event) =>
                        setScopes((chosen) => (event.target.checked ? [...chosen, scope.value] : chosen.filter((value) => value !== scope.value)))
                      }
                    />
                    {scope.label}
                  </label>
                ))}
              </div>
            ) : null}
            {fieldError(create.error, "scopes") ? (
              <p role="alert" className="text-xs font-medium text-danger">
                {fieldError(create.error, "scopes")}
              </p>
            ) : null}
          </fieldset>
          <FormError error={create.error} fields={["name", "scopes"]} />
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button type="button" variant="secondary">
                Cancel
              </Button>
            </DialogClose>
            <Button type="submit" busy={create.isPending} disabled={!name.trim() || (restricted && scopes.length === 0)}>
              Create key
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
