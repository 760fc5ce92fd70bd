"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { Button } from "@/components/ui/button";
import { Badge, Card, type BadgeTone } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";
import { formatUnix } from "@/lib/format";

import { CELL, EmptyState, LoadError, LoadingRows, SectionHeader, TABLE_HEAD } from "./parts";

type AuditPage = Schemas["AuditPage"];
type Action = "created" | "changed" | "deleted";
const PAGE_SIZE = 50;
const ACTION_TONES: Record<string, BadgeTone> = { created: "success", changed: "accent", deleted: "danger" };

/** The kinds of things the audit log names (app/api, each `audit(...)` call's target type). */
export const TARGET_TYPES: readonly { value: string; label: string }[] = [
  { value: "agent", label: "Agents" },
  { value: "api_key", label: "API keys" },
  { value: "campaign", label: "Campaigns" },
  { value: "conversation", label: "Calls" },
  { value: "do_not_call", label: "Do-not-call list" },
  { value: "lead", label: "Leads" },
  { value: "phone_number", label: "Phone numbers" },
  { value: "provider_key", label: "Provider keys" },
  { value: "user", label: "Users" },
  { value: "webhook", label: "Webhooks" },
];

function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/** Who created, changed or deleted what, newest first, narrowed by action, kind and actor. */
export function AuditLog() {
  const [action, setAction] = useState<Action | "">("");
  const [targetType, setTargetType] = useState("");
  const [actorInput, setActorInput] = useState("");
  const actor = useDebounced(actorInput.trim(), 300);
  const entries = useInfiniteQuery({
    queryKey: ["settings", "audit", action, targetType, actor],
    initialPageParam: null as number | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/audit", {
          params: {
            query: {
              limit: PAGE_SIZE,
              before: pageParam ?? undefined,
              action: action || undefined,
              target_type: targetType || undefined,
              actor: actor || undefined,
            },
          },
        }),
      ),
    getNextPageParam: (last: AuditPage) => last.next_before,
  });
  const rows = entries.data?.pages.flatMap((page) => page.entries) ?? [];
  const filtered = Boolean(action || targetType || actor);

  return (
    <section aria-labelledby="settings-title">
      <SectionHeader title="Audit log" description="Every change made through the API or this dashboard: who (a person, or an API key by its name), what and when. Entries are never edited." />
      <div className="mb-4 grid gap-4 sm:grid-cols-3">
        <Field label="Action">
          <Select value={action} onChange={(event) => setAction(event.target.value as Action | "")}>
            <option value="">Any action</option>
            <option value="created">Created</option>
            <option value="changed">Changed</option>
            <option value="deleted">Deleted</option>
          </Select>
        </Field>
        <Field label="Kind">
          <Select value={targetType} onChange={(event) => setTargetType(event.target.value)}>
            <option value="">Anything</option>
            {TARGET_TYPES.map((type) => (
              <option key={type.value} value={type.value}>
                {type.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Who" hint="Part of an e-mail address or a key's name.">
          <Input type="search" value={actorInput} onChange={(event) => setActorInput(event.target.value)} maxLength={200} />
        </Field>
      </div>
      {entries.isPending ? (
        <LoadingRows what="audit log" rows={6} />
      ) : entries.error ? (
        <LoadError what="audit log" error={entries.error} retry={() => void entries.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title={filtered ? "No entry matches" : "Nothing has changed yet"}>
          {filtered ? "Widen the filters above." : "Creating an agent, a key or a user is the first entry."}
        </EmptyState>
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Audit log entries</caption>
            <thead className={TABLE_HEAD}>
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">When</th>
                <th scope="col" className="px-5 py-3 font-medium">Who</th>
                <th scope="col" className="px-5 py-3 font-medium">What</th>
                <th scope="col" className="hidden px-5 py-3 font-medium xl:table-cell">Detail</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((entry) => (
                <tr key={entry.seq}>
                  <td className={`${CELL} whitespace-nowrap text-muted`}>{formatUnix(entry.at_unix_secs)}</td>
                  <td className={`${CELL} break-words text-ink`}>{entry.actor}</td>
                  <td className={CELL}>
                    <Badge tone={ACTION_TONES[entry.action] ?? "neutral"}>{entry.action}</Badge>{" "}
                    <span className="text-muted">{entry.target_type.replace(/_/g, " ")}</span>
                    <p className="mt-1 break-all font-mono text-xs text-ink">{entry.target_id}</p>
                  </td>
                  <td className={`${CELL} hidden max-w-sm xl:table-cell`}>
                    {Object.keys(entry.detail).length > 0 ? (
                      <code className="block whitespace-pre-wrap break-all font-mono text-xs text-muted">{JSON.stringify(entry.detail)}</code>
                    ) : (
                      <span className="text-muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
      {entries.hasNextPage ? (
        <div className="mt-4 flex justify-center">
          <Button variant="secondary" busy={entries.isFetchingNextPage} onClick={() => void entries.fetchNextPage()}>
            Show older entries
          </Button>
        </div>
      ) : null}
    </section>
  );
}
