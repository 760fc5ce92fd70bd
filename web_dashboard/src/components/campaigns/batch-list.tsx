"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert, Card } from "@/components/ui/card";
import { formatUnix } from "@/lib/format";

import { ListSkeleton, StateBadge } from "./campaign-parts";

type BatchPage = Schemas["WorkspaceBatchCallsResponse"];

/**
 * The runs as ElevenLabs' batch-calling API (`/v1/convai/batch-calling/workspace`) lists them:
 * a batch is a campaign with ElevenLabs' defaults, so this lists every campaign in that shape
 * (statuses pending, in progress, completed, cancelled; calls dispatched, scheduled, finished).
 */
export function BatchList() {
  const batches = useInfiniteQuery({
    queryKey: ["campaigns", "batches"],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/v1/convai/batch-calling/workspace", { params: { query: { limit: 50, last_doc: pageParam ?? undefined } } })),
    getNextPageParam: (last: BatchPage) => (last.has_more ? last.next_doc : null),
    refetchInterval: 10_000,
  });
  const rows = batches.data?.pages.flatMap((page) => page.batch_calls) ?? [];
  return (
    <>
      <p className="mb-3 max-w-3xl text-sm text-muted">
        The campaigns as ElevenLabs’ batch-calling API (<code className="font-mono text-xs">/v1/convai/batch-calling</code>) lists them: to that API every campaign is a
        batch call, whether it was submitted there or made here.
      </p>
      <Card className="overflow-hidden">
        {batches.isPending ? (
          <ListSkeleton label="Loading batch calls" />
        ) : batches.error ? (
          <div className="p-6">
            <Alert title="The batch calls could not be loaded">
              {errorMessage(batches.error)}{" "}
              <button type="button" className="font-medium text-accent underline" onClick={() => void batches.refetch()}>
                Try again
              </button>
            </Alert>
          </div>
        ) : rows.length === 0 ? (
          <div className="px-6 py-14 text-center">
            <h2 className="text-base font-semibold text-ink">No batch calls</h2>
            <p className="mt-1 text-sm text-muted">
              Submit one with <code className="font-mono text-xs">POST /v1/convai/batch-calling/submit</code>, or create a campaign here.
            </p>
          </div>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <thead className="border-b border-line bg-subtle/60 text-xs font-medium uppercase tracking-wide text-muted">
                <tr>
                  <th scope="col" className="px-5 py-3 font-medium">Batch</th>
                  <th scope="col" className="px-5 py-3 font-medium">Status</th>
                  <th scope="col" className="hidden px-5 py-3 font-medium md:table-cell">Agent</th>
                  <th scope="col" className="px-5 py-3 text-right font-medium">Dispatched</th>
                  <th scope="col" className="px-5 py-3 text-right font-medium">Finished</th>
                  <th scope="col" className="px-5 py-3 font-medium">Scheduled</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-line">
                {rows.map((batch) => (
                  <tr key={batch.id} className="group hover:bg-subtle/50">
                    <td className="px-5 py-3.5">
                      <Link href={`/campaigns/view/?id=${encodeURIComponent(batch.id)}`} className="font-medium text-ink group-hover:text-accent">
                        {batch.name}
                      </Link>
                      <p className="mt-0.5 hidden font-mono text-xs text-muted xl:block">{batch.id}</p>
                    </td>
                    <td className="px-5 py-3.5">
                      <StateBadge state={batch.status} />
                      {batch.retry_count > 0 ? <p className="mt-1 text-xs text-muted">retried {batch.retry_count}×</p> : null}
                    </td>
                    <td className="hidden px-5 py-3.5 text-ink md:table-cell">{batch.agent_name || batch.agent_id}</td>
                    <td className="px-5 py-3.5 text-right tabular-nums">{batch.total_calls_dispatched}</td>
                    <td className="px-5 py-3.5 text-right tabular-nums">
                      {batch.total_calls_finished} / {batch.total_calls_scheduled}
                    </td>
                    <td className="whitespace-nowrap px-5 py-3.5 text-muted">{formatUnix(batch.scheduled_time_unix)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {batches.hasNextPage ? (
        <div className="mt-4 flex justify-center">
          <Button variant="secondary" busy={batches.isFetchingNextPage} onClick={() => void batches.fetchNextPage()}>
            Show more batch calls
          </Button>
        </div>
      ) : null}
    </>
  );
}
