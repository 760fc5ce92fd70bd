"use client";

import { useMutation, useQueryClient, type QueryKey, type UseMutationResult } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { ApiError, errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert, Card, Skeleton } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/dialog";

/** A section's title, what it is for, and its main action. */
export function SectionHeader({ title, description, action }: { title: string; description: ReactNode; action?: ReactNode }) {
  return (
    <div className="mb-5 flex flex-wrap items-end justify-between gap-3">
      <div className="min-w-0">
        <h2 id="settings-title" className="text-lg font-semibold text-ink">{title}</h2>
        <p className="mt-1 max-w-2xl text-sm text-muted">{description}</p>
      </div>
      {action ? <div className="flex items-center gap-2">{action}</div> : null}
    </div>
  );
}

/** Grey rows while a list loads; announced as loading `what`. */
export function LoadingRows({ what, rows = 4 }: { what: string; rows?: number }) {
  return (
    <Card role="status" aria-busy="true" aria-label={`Loading ${what}`} className="divide-y divide-line">
      {Array.from({ length: rows }, (_, index) => (
        <div key={index} className="flex items-center gap-6 px-5 py-4">
          <div className="flex-1 space-y-2">
            <Skeleton className="h-4 w-48" />
            <Skeleton className="h-3 w-72 max-w-full" />
          </div>
          <Skeleton className="h-8 w-20" />
        </div>
      ))}
    </Card>
  );
}

/** A list that failed to load: why, and a way to try again. */
export function LoadError({ what, error, retry }: { what: string; error: unknown; retry: () => void }) {
  return (
    <Alert title={`The ${what} could not be loaded`}>
      {errorMessage(error)}{" "}
      <button type="button" className="font-medium text-accent underline" onClick={retry}>
        Try again
      </button>
    </Alert>
  );
}

/** Nothing to list yet: what would be here, and how to add the first one. */
export function EmptyState({ title, children, action }: { title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <Card className="flex flex-col items-center px-6 py-12 text-center">
      <h3 className="text-base font-semibold text-ink">{title}</h3>
      <div className="mt-1 max-w-md text-sm text-muted">{children}</div>
      {action ? <div className="mt-5">{action}</div> : null}
    </Card>
  );
}

/**
 * A secret shown this once (a new API key, a webhook's signing secret, an invite link), with a
 * button that copies it. Nothing keeps it: once closed, it cannot be shown again.
 */
export function OneTimeSecret({ label, value, note }: { label: string; value: string; note: ReactNode }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  }
  return (
    <div className="space-y-2">
      <p className="text-sm font-medium text-ink">{label}</p>
      <div className="flex items-stretch gap-2">
        <code
          aria-label={label}
          className="min-w-0 flex-1 select-all break-all rounded-md border border-line bg-subtle px-3 py-2 font-mono text-xs text-ink"
        >
          {value}
        </code>
        <Button type="button" variant="secondary" onClick={() => void copy()}>
          {copied === "yes" ? "Copied" : "Copy"}
        </Button>
      </div>
      {copied === "failed" ? (
        <p role="alert" className="text-xs font-medium text-danger">
          The browser refused to copy; select the text and copy it yourself.
        </p>
      ) : null}
      <p className="text-xs leading-relaxed text-warning">{note}</p>
    </div>
  );
}

/** The API's message for one field of a refused request, if it named that field. */
export function fieldError(error: unknown, path: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.fieldErrors.find((field) => field.path === path || field.path.startsWith(`${path}.`))?.message;
}

/** A refusal that names no field shown here (those are shown by their fields). */
export function FormError({ error, fields }: { error: unknown; fields: readonly string[] }) {
  if (!error || fields.some((path) => fieldError(error, path))) return null;
  return (
    <p role="alert" className="text-sm font-medium text-danger">
      {errorMessage(error)}
    </p>
  );
}

export const TABLE_HEAD = "border-b border-line bg-subtle/60 text-xs font-medium uppercase tracking-wide text-muted";
export const CELL = "px-5 py-3.5 align-top";

/** A removal that is asked first: `ask(item)` opens the question, `item` is the one asked about
 * (null: none), `mutation` removes it. */
export interface Removal<T> {
  item: T | null;
  ask: (item: T) => void;
  close: () => void;
  mutation: UseMutationResult<unknown, Error, T>;
}

/** The state of a removal asked first: once `remove(item)` succeeds the question closes and
 * the list under `invalidates` is read again. */
export function useRemoval<T>({ remove, invalidates }: { remove: (item: T) => Promise<unknown>; invalidates: QueryKey }): Removal<T> {
  const client = useQueryClient();
  const [item, setItem] = useState<T | null>(null);
  const mutation = useMutation<unknown, Error, T>({
    mutationFn: remove,
    onSuccess: async () => {
      setItem(null);
      await client.invalidateQueries({ queryKey: invalidates });
    },
  });
  return {
    item,
    ask: setItem,
    close: () => {
      setItem(null);
      mutation.reset();
    },
    mutation,
  };
}

/** Every section's "are you sure?" before removing something: what goes and what follows,
 * the API's refusal inside the question, Cancel forgetting it. */
export function ConfirmRemoval<T>({
  removal,
  title,
  description,
  confirmLabel,
}: {
  removal: Removal<T>;
  title: (item: T) => string;
  description: ReactNode;
  confirmLabel: string;
}) {
  const { item, mutation } = removal;
  return (
    <ConfirmDialog
      open={item !== null}
      onOpenChange={(open) => {
        if (!open) removal.close();
      }}
      title={item !== null ? title(item) : ""}
      description={description}
      confirmLabel={confirmLabel}
      busy={mutation.isPending}
      error={mutation.error ? errorMessage(mutation.error) : null}
      onConfirm={() => {
        if (item !== null) mutation.mutate(item);
      }}
    />
  );
}
