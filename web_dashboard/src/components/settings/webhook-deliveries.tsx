"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";

import { api, unwrap } from "@/api/client";
import { Button } from "@/components/ui/button";
import { Badge, Card, type BadgeTone } from "@/components/ui/card";
import { formatUnix } from "@/lib/format";
import { settingsHref } from "@/lib/settings-sections";

import { WEBHOOKS_KEY } from "./webhooks";
import { CELL, EmptyState, LoadError, LoadingRows, SectionHeader, TABLE_HEAD } from "./parts";

/** A delivery's status as a badge's tone (here and on the call page). */
export const DELIVERY_TONES: Record<string, BadgeTone> = { delivered: "success", pending: "neutral", sending: "accent", failed: "danger" };
const LIMIT = 100;

/** One webhook's most recent deliveries, newest first: each try's status code and error. */
export function WebhookDeliveries({ webhookId }: { webhookId: string }) {
  const hooks = useQuery({ queryKey: WEBHOOKS_KEY, queryFn: () => unwrap(api.GET("/v1/workspace/webhooks")) });
  const deliveries = useQuery({
    queryKey: ["settings", "webhook-deliveries", webhookId],
    queryFn: () =>
      unwrap(api.GET("/v1/workspace/webhooks/{webhook_id}/deliveries", { params: { path: { webhook_id: webhookId }, query: { limit: LIMIT } } })),
    refetchInterval: 10_000,
  });
  const hook = hooks.data?.webhooks.find((item) => item.webhook_id === webhookId);
  const rows = deliveries.data?.deliveries ?? [];

  return (
    <section aria-labelledby="settings-title">
      <Link href={settingsHref("webhooks")} className="mb-3 inline-block text-sm font-medium text-accent hover:underline">
        ← All webhooks
      </Link>
      <SectionHeader
        title={hook ? `Deliveries to “${hook.name}”` : "Webhook deliveries"}
        description={
          hook ? <span className="break-all font-mono text-xs">{hook.webhook_url}</span> : `The last ${LIMIT} events sent, newest first; refreshed every 10 seconds.`
        }
        action={
          <Button variant="secondary" busy={deliveries.isFetching} onClick={() => void deliveries.refetch()}>
            Refresh
          </Button>
        }
      />
      {deliveries.isPending ? (
        <LoadingRows what="deliveries" />
      ) : deliveries.error ? (
        <LoadError what="deliveries" error={deliveries.error} retry={() => void deliveries.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="Nothing sent yet">Events appear here as soon as one happens: for instance, when the next call ends.</EmptyState>
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Deliveries</caption>
            <thead className={TABLE_HEAD}>
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">Event</th>
                <th scope="col" className="px-5 py-3 font-medium">Status</th>
                <th scope="col" className="px-5 py-3 font-medium">Tries</th>
                <th scope="col" className="hidden px-5 py-3 font-medium md:table-cell">Payload</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((delivery) => (
                <tr key={delivery.delivery_id}>
                  <td className={CELL}>
                    <p className="font-mono text-ink">{delivery.event_type}</p>
                    <p className="mt-0.5 whitespace-nowrap text-xs text-muted">{formatUnix(delivery.created_at_unix)}</p>
                  </td>
                  <td className={CELL}>
                    <Badge tone={DELIVERY_TONES[delivery.status] ?? "neutral"}>{delivery.status}</Badge>
                    {delivery.last_status_code ? <span className="ml-2 text-xs text-muted">HTTP {delivery.last_status_code}</span> : null}
                    {delivery.last_error ? <p className="mt-1 max-w-xs break-words text-xs text-danger">{delivery.last_error}</p> : null}
                    {delivery.delivered_at_unix ? (
                      <p className="mt-1 whitespace-nowrap text-xs text-muted">Delivered {formatUnix(delivery.delivered_at_unix)}</p>
                    ) : delivery.next_attempt_at_unix ? (
                      <p className="mt-1 whitespace-nowrap text-xs text-muted">Next try {formatUnix(delivery.next_attempt_at_unix)}</p>
                    ) : null}
                  </td>
                  <td className={`${CELL} text-ink`}>{delivery.attempts}</td>
                  <td className={`${CELL} hidden md:table-cell`}>
                    <details>
                      <summary className="cursor-pointer text-xs font-medium text-accent">Show JSON</summary>
                      <pre className="mt-2 max-h-60 max-w-md overflow-auto rounded-md bg-subtle p-2 font-mono text-xs text-ink">
                        {JSON.stringify(delivery.payload, null, 2)}
                      </pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </section>
  );
}
