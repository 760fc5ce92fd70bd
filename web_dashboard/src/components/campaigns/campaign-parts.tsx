"use client";

import { useQuery } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/api/client";
import { Badge, Skeleton, type BadgeTone } from "@/components/ui/card";
import { cn } from "@/lib/cn";

export type Campaign = Schemas["CampaignResponse"];

const STATE_TONE: Record<string, BadgeTone> = {
  draft: "neutral",
  scheduled: "accent",
  running: "success",
  paused: "warning",
  completed: "neutral",
  cancelled: "danger",
  pending: "accent",
  in_progress: "success",
  failed: "danger",
};

export function StateBadge({ state }: { state: string }) {
  return <Badge tone={STATE_TONE[state] ?? "neutral"}>{state.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase())}</Badge>;
}

/** A labelled bar: `value` of `total`, with its count and share written beside it. */
export function ProgressBar({
  label,
  value,
  total,
  tone = "accent",
  compact = false,
}: {
  label: string;
  value: number;
  total: number;
  tone?: "accent" | "success" | "warning" | "muted";
  /** One short line above the bar (`1 of 2 · 50%`), the label kept for screen readers: for tables. */
  compact?: boolean;
}) {
  const share = total > 0 ? Math.min(100, Math.round((value / total) * 100)) : 0;
  const fills = { accent: "bg-accent", success: "bg-success", warning: "bg-warning", muted: "bg-muted" } as const;
  return (
    <div>
      <div className={cn("mb-1 flex items-baseline justify-between gap-2", compact ? "text-xs" : "text-sm")}>
        <span className={compact ? "sr-only" : "font-medium text-ink"}>{label}</span>
        <span className="whitespace-nowrap tabular-nums text-muted">
          {value.toLocaleString()} of {total.toLocaleString()} · {share}%
        </span>
      </div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={value}
        aria-valuetext={`${value} of ${total}`}
        className="h-2.5 overflow-hidden rounded-full bg-subtle"
      >
        <div className={cn("h-full rounded-full transition-[width] duration-500", fills[tone])} style={{ width: `${share}%` }} />
      </div>
    </div>
  );
}

/** The organization's agents by id (the first 100; an id not among them is shown as is). */
export function useAgentNames(): Map<string, string> {
  const agents = useQuery({
    queryKey: ["agents", "names"],
    queryFn: () => unwrap(api.GET("/v1/convai/agents", { params: { query: { page_size: 100 } } })),
    staleTime: 60_000,
  });
  return new Map((agents.data?.agents ?? []).map((agent) => [agent.agent_id, agent.name]));
}

/** The organization's phone numbers (`numbers:read`). */
export function usePhoneNumbers() {
  return useQuery({
    queryKey: ["phone-numbers"],
    queryFn: () => unwrap(api.GET("/v1/convai/phone-numbers")),
    staleTime: 60_000,
  });
}

export function ListSkeleton({ label }: { label: string }) {
  return (
    <div role="status" aria-busy="true" aria-label={label} className="divide-y divide-line">
      {Array.from({ length: 4 }, (_, index) => (
        <div key={index} className="flex items-center gap-6 px-5 py-4">
          <div className="flex-1 space-y-2">
            <Skeleton className="h-4 w-48" />
            <Skeleton className="h-3 w-64" />
          </div>
          <Skeleton className="h-5 w-20" />
          <Skeleton className="hidden h-3 w-56 md:block" />
          <Skeleton className="h-4 w-28" />
        </div>
      ))}
    </div>
  );
}
