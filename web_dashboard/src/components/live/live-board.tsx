"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { callHref } from "@/components/calls/call-list";
import { PageHeader } from "@/components/shell/app-shell";
import { Alert, Badge, Card, Skeleton } from "@/components/ui/card";
import { humanize } from "@/lib/call-filters";
import { EMPTY, withList, withMoment, type EndedCall, type LiveState } from "@/lib/live-calls";
import { useLiveStream, type StreamStatus } from "@/lib/live-stream";

import { LiveCallCard } from "./live-call-card";

/** The list is asked for again this often as a backstop to the stream (moments may be lost). */
const RELIST_MS = 30_000;

const REASONS: Record<string, string> = {
  ended_by_supervisor: "Ended by a supervisor",
};

/**
 * Calls in progress, every node's: listed from the database, then kept current by the live
 * stream (transcript lines with their latencies, events, calls starting and ending).
 */
export function LiveBoard({ canEnd, canReadAgents }: { canEnd: boolean; canReadAgents: boolean }) {
  const [state, setState] = useState<LiveState>(EMPTY);
  const [ending, setEnding] = useState<ReadonlySet<string>>(new Set());
  const [now, setNow] = useState(() => Date.now());

  const list = useQuery({
    queryKey: ["live", "calls"],
    queryFn: async () => {
      const askedAt = Date.now();
      const body = await unwrap(api.GET("/v1/calls/live"));
      return { askedAt, calls: body.calls };
    },
    refetchInterval: RELIST_MS,
  });
  const agents = useQuery({
    queryKey: ["agents", "names"],
    queryFn: () => unwrap(api.GET("/v1/convai/agents", { params: { query: { page_size: 100 } } })),
    staleTime: 60_000,
    enabled: canReadAgents,
  });

  useEffect(() => {
    if (list.data) setState((current) => withList(current, list.data.calls, list.data.askedAt));
  }, [list.data]);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const relist = list.refetch;
  const onMoment = useCallback((moment: Record<string, unknown>) => {
    setState((current) => withMoment(current, moment));
    if (moment.type === "call_started" || moment.type === "call_ended") void relist();
  }, [relist]);
  const status = useLiveStream(onMoment, () => void relist());

  const names = new Map((agents.data?.agents ?? []).map((agent) => [agent.agent_id, agent.name]));
  const nameOf = (agentId: string) => names.get(agentId) || agentId || "Agent";

  return (
    <>
      <PageHeader title="Live calls" description="Calls in progress on every node, their transcripts as they are spoken." actions={<StreamBadge status={status} now={now} />} />
      <p className="-mt-3 mb-5 text-xs text-muted">
        Lines spoken before you opened this page are not shown here; the whole transcript is on the call&apos;s page once it ends.
      </p>
      {list.error && !list.data ? (
        <Alert title="The calls in progress could not be loaded">
          {errorMessage(list.error)}{" "}
          <button type="button" className="font-medium text-accent underline" onClick={() => void list.refetch()}>
            Try again
          </button>
        </Alert>
      ) : list.isPending ? (
        <div role="status" aria-busy="true" aria-label="Loading the calls in progress" className="grid gap-4 lg:grid-cols-2">
          <Skeleton className="h-64" />
          <Skeleton className="h-64" />
        </div>
      ) : state.calls.length === 0 ? (
        <Card className="flex flex-col items-center px-6 py-16 text-center">
          <h2 className="text-base font-semibold text-ink">No calls in progress</h2>
          <p className="mt-1 max-w-md text-sm text-muted">
            A call appears here the moment it starts: a phone call to one of your numbers, a campaign dial that is answered, or a web or app conversation.
          </p>
        </Card>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          {state.calls.map((call) => (
            <LiveCallCard
              key={call.id}
              call={call}
              agentName={nameOf(call.agentId)}
              now={now}
              canEnd={canEnd}
              ending={ending.has(call.id)}
              onEnding={() => setEnding((current) => new Set(current).add(call.id))}
            />
          ))}
        </div>
      )}
      {state.ended.length ? <RecentlyEnded calls={state.ended} nameOf={nameOf} /> : null}
    </>
  );
}

function StreamBadge({ status, now }: { status: StreamStatus; now: number }) {
  const text =
    status.kind === "open"
      ? "Live"
      : status.kind === "connecting"
        ? "Connecting…"
        : `Stream lost; reconnecting${status.retryAt > now ? ` in ${Math.ceil((status.retryAt - now) / 1000)} s` : "…"}`;
  return (
    <div role="status" aria-label={`Live updates: ${text}`}>
      <Badge tone={status.kind === "open" ? "success" : status.kind === "connecting" ? "neutral" : "warning"}>
        {status.kind === "open" ? <span aria-hidden="true" className="mr-1.5 inline-block h-2 w-2 animate-pulse rounded-full bg-success" /> : null}
        {text}
      </Badge>
    </div>
  );
}

function RecentlyEnded({ calls, nameOf }: { calls: EndedCall[]; nameOf: (agentId: string) => string }) {
  return (
    <section aria-label="Ended while you watched" className="mt-8">
      <h2 className="text-sm font-semibold text-ink">Ended while you watched</h2>
      <ul className="mt-2 divide-y divide-line rounded-lg border border-line bg-surface">
        {calls.map((call) => (
          <li key={call.id} className="flex flex-wrap items-center justify-between gap-2 px-4 py-2 text-sm">
            <span className="text-ink">
              {nameOf(call.agentId)}
              {call.from ? ` · ${call.from}` : ""}
              <span className="text-muted"> · {REASONS[call.reason] ?? humanize(call.reason || "ended")}</span>
            </span>
            <Link className="font-medium text-accent hover:underline" href={callHref(call.id)}>
              Open the call
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
