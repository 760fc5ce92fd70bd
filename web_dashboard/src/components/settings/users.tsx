"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { roleName } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Badge, Card, type BadgeTone } from "@/components/ui/card";
import { Dialog, DialogClose } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";
import { formatUnix } from "@/lib/format";

import { CELL, ConfirmRemoval, EmptyState, fieldError, FormError, LoadError, LoadingRows, OneTimeSecret, SectionHeader, TABLE_HEAD, useRemoval } from "./parts";

type User = Schemas["UserResponse"];
type Role = "admin" | "manager" | "support" | "field_agent";
const KEYS = ["settings", "users"] as const;
const ROLES: readonly { value: Role; what: string }[] = [
  { value: "admin", what: "everything: users, API keys, provider keys, deleting calls" },
  { value: "manager", what: "agents, numbers, campaigns, do-not-call, webhooks; reads calls" },
  { value: "support", what: "reads calls, recordings, analytics, agents and campaigns" },
  { value: "field_agent", what: "their own leads and call backs, from the field app" },
];
const STATUS_TONES: Record<string, BadgeTone> = { active: "success", invited: "accent", locked: "warning", disabled: "danger" };

/** The organization's people: invite (the link shown once), change a role, a new invite link, remove. */
export function Users({ myEmail }: { myEmail: string | null }) {
  const [inviting, setInviting] = useState(false);
  const [changing, setChanging] = useState<User | null>(null);
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);
  const users = useQuery({ queryKey: KEYS, queryFn: () => unwrap(api.GET("/v1/users")) });
  const remove = useRemoval<User>({
    remove: (user) => unwrap(api.DELETE("/v1/users/{user_id}", { params: { path: { user_id: user.user_id } } })),
    invalidates: KEYS,
  });
  const reinvite = useMutation({
    mutationFn: (user: User) => unwrap(api.POST("/v1/users/{user_id}/invite", { params: { path: { user_id: user.user_id } } })),
    onSuccess: (answer, user) => setLink({ email: user.email, url: answer.invite_url }),
  });
  const rows = users.data?.users ?? [];
  const invite = <Button onClick={() => setInviting(true)}>Invite someone</Button>;

  return (
    <section aria-labelledby="settings-title">
      <SectionHeader
        title="Users and roles"
        description="Velox sends no e-mail: inviting someone gives you a link, valid for 7 days, to hand to them. They choose their password through it."
        action={invite}
      />
      {reinvite.error ? <p role="alert" className="mb-4 text-sm font-medium text-danger">{errorMessage(reinvite.error)}</p> : null}
      {users.isPending ? (
        <LoadingRows what="users" />
      ) : users.error ? (
        <LoadError what="users" error={users.error} retry={() => void users.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="Nobody signs in yet" action={invite}>
          The organization is used through API keys only. Invite the people who should sign in.
        </EmptyState>
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Users</caption>
            <thead className={TABLE_HEAD}>
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">Person</th>
                <th scope="col" className="px-5 py-3 font-medium">Role</th>
                <th scope="col" className="hidden px-5 py-3 font-medium lg:table-cell">Last sign-in</th>
                <th scope="col" className="px-5 py-3 font-medium"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((user) => {
                const me = user.email === myEmail;
                return (
                  <tr key={user.user_id}>
                    <td className={CELL}>
                      <p className="break-words font-medium text-ink">
                        {user.email} {me ? <span className="text-xs font-normal text-muted">(you)</span> : null}
                      </p>
                      <Badge className="mt-1" tone={STATUS_TONES[user.status] ?? "neutral"}>{user.status}</Badge>
                    </td>
                    <td className={`${CELL} whitespace-nowrap text-ink`}>{roleName(user.role)}</td>
                    <td className={`${CELL} hidden whitespace-nowrap text-muted lg:table-cell`}>
                      {user.last_sign_in_unix_secs ? formatUnix(user.last_sign_in_unix_secs) : "Never"}
                    </td>
                    <td className={CELL}>
                      <div className="flex flex-wrap justify-end gap-2">
                        {me ? null : (
                          <>
                            <Button variant="secondary" size="sm" onClick={() => setChanging(user)} aria-label={`Change role of ${user.email}`}>
                              Change role
                            </Button>
                            <Button variant="secondary" size="sm" busy={reinvite.isPending && reinvite.variables?.user_id === user.user_id} onClick={() => reinvite.mutate(user)} aria-label={`New invite link for ${user.email}`}>
                              New invite link
                            </Button>
                            <Button variant="ghost" size="sm" onClick={() => remove.ask(user)} aria-label={`Remove ${user.email}`}>
                              Remove
                            </Button>
                          </>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Card>
      )}
      <InviteDialog open={inviting} onOpenChange={setInviting} />
      <RoleDialog user={changing} onClose={() => setChanging(null)} />
      <Dialog open={link !== null} onOpenChange={(open) => !open && setLink(null)} title="New invite link" description={`For ${link?.email ?? ""}; earlier links stop working.`}>
        <div className="space-y-5">
          {link ? <OneTimeSecret label="Invite link" value={link.url} note="Hand it to them now: it is shown only this once and works for 7 days." /> : null}
          <div className="flex justify-end">
            <Button type="button" onClick={() => setLink(null)}>Done</Button>
          </div>
        </div>
      </Dialog>
      <ConfirmRemoval
        removal={remove}
        title={(user) => `Remove ${user.email}?`}
        description="They are signed out everywhere and can no longer sign in. What they did stays in the audit log."
        confirmLabel="Remove user"
      />
    </section>
  );
}

function RoleChoice({ value, onChange, error }: { value: Role; onChange: (role: Role) => void; error?: string | undefined }) {
  return (
    <Field label="Role" hint={ROLES.find((role) => role.value === value)?.what} error={error}>
      <Select value={value} onChange={(event) => onChange(event.target.value as Role)}>
        {ROLES.map((role) => (
          <option key={role.value} value={role.value}>
            {roleName(role.value)}
          </option>
        ))}
      </Select>
    </Field>
  );
}

function InviteDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("support");
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/users", { body: { email: email.trim(), role } })),
    onSuccess: () => client.invalidateQueries({ queryKey: KEYS }),
  });

  function close(next: boolean) {
    if (!next) {
      create.reset();
      setEmail("");
      setRole("support");
    }
    onOpenChange(next);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  const invited = create.data;
  return (
    <Dialog open={open} onOpenChange={close} title={invited ? "Invite link" : "Invite someone"} description={invited ? `${invited.email} is invited as ${roleName(invited.role).toLowerCase()}.` : "They get a link to choose their password; nothing is e-mailed."}>
      {invited ? (
        <div className="space-y-5">
          <OneTimeSecret label="Invite link" value={invited.invite_url} note="Hand it to them now: it is shown only this once and works for 7 days. A new link can be made from the list." />
          <div className="flex justify-end">
            <Button type="button" onClick={() => close(false)}>Done</Button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-5">
          <Field label="Email address" error={fieldError(create.error, "email")}>
            <Input type="email" value={email} onChange={(event) => setEmail(event.target.value)} maxLength={320} autoFocus />
          </Field>
          <RoleChoice value={role} onChange={setRole} error={fieldError(create.error, "role")} />
          <FormError error={create.error} fields={["email", "role"]} />
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button type="button" variant="secondary">Cancel</Button>
            </DialogClose>
            <Button type="submit" busy={create.isPending} disabled={!email.trim()}>
              Create invite
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function RoleDialog({ user, onClose }: { user: User | null; onClose: () => void }) {
  const client = useQueryClient();
  const [role, setRole] = useState<Role | null>(null);
  const chosen = role ?? ((user?.role ?? "support") as Role);
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH("/v1/users/{user_id}", { params: { path: { user_id: user?.user_id ?? "" } }, body: { role: chosen } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: KEYS });
      close();
    },
  });

  function close() {
    setRole(null);
    save.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <Dialog open={user !== null} onOpenChange={(open) => !open && close()} title="Change role" description={`What ${user?.email ?? ""} may do. It applies to their next request.`}>
      <form onSubmit={submit} className="space-y-5">
        <RoleChoice value={chosen} onChange={setRole} error={fieldError(save.error, "role")} />
        <FormError error={save.error} fields={["role"]} />
        <div className="flex justify-end gap-2">
          <DialogClose asChild>
            <Button type="button" variant="secondary">Cancel</Button>
          </DialogClose>
          <Button type="submit" busy={save.isPending} disabled={chosen === user?.role}>
            Save role
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
