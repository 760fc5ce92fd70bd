"use client";

import { queryOptions, useQuery } from "@tanstack/react-query";
import Link from "next/link";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { DELIVERY_TONES } from "@/components/settings/webhook-deliveries";
import { Badge } from "@/components/ui/card";
import { formatUnix } from "@/lib/format";
import { may, useMe } from "@/lib/session";
import { settingsHref } from "@/lib/settings-sections";

type Delivery = Schemas["CallDeliveryResponse"];

const UNSETTLED = new Set(["pending", "sending"]);

/** The call's deliveries, read by the section and started by the call page's route. */
export function callWebhooksQuery(conversationId: string) {
  return queryOptions({
    queryKey: ["calls", "webhook-deliveries", conversationId],
    queryFn: () =>
      unwrap(api.GET("/v1/convai/conversations/{conversation_id}/webhook-deliveries", { params: { path: { conversation_id: conversationId } } })),
  });
}

/**
 * The webhooks Velox sent about this call (started, ended, analysis ready): to which endpoint,
 * how each went (status, tries, last HTTP status or error, times) and the JSON sent. Read again
 * every 10 s while one is still to be sent.
 */
export function CallWebhooks({ conversationId }: { conversationId: string }) {
  const me = useMe();
  const deliveries = useQuery({
    ...callWebhooksQuery(conversationId),
    refetchInterval: (query) => (query.state.data?.deliveries.some((delivery) => UNSETTLED.has(delivery.status)) ? 10_000 : false),
  });
  if (deliveries.isPending) {
    return (
      <p role="status" className="px-4 py-4 text-sm text-muted">
        Loading the webhook deliveries…
      </p>
    );
  }
  if (deliveries.error) {
    return (
      <p role="alert" className="px-4 py-4 text-sm text-danger">
        The webhook deliveries could not be loaded: {errorMessage(deliveries.error)}{" "}
        <button type="button" className="font-medium text-accent underline" onClick={() => void deliveries.refetch()}>
          Try again
        </button>
      </p>
    );
  }
  const rows = deliveries.data.deliveries;
  if (rows.length === 0) {
    return <p className="px-4 py-4 text-sm text-muted">No webhook was sent about this call: no endpoint of the organization takes its events, or none was enabled then.</p>;
  }
  const canOpenLog = may(me.data, "webhooks:read");
  return (
    <ul className="divide-y divide-line" aria-label="Webhook deliveries">
      {rows.map((delivery) => (
        <DeliveryItem key={delivery.delivery_id} delivery={delivery} canOpenLog={canOpenLog} />
      ))}
    </ul>
  );
}

function DeliveryItem({ delivery, canOpenLog }: { delivery: Delivery; canOpenLog: boolean }) {
  const name = delivery.webhook_name;
  return (
    <li className="space-y-1 px-4 py-3 text-sm">
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <span className="font-mono text-ink">{delivery.event_type}</span>
        <Badge tone={DELIVERY_TONES[delivery.status] ?? "neutral"}>{delivery.status}</Badge>
        {delivery.last_status_code ? <span className="text-xs text-muted">HTTP {delivery.last_status_code}</span> : null}
        <span className="ml-auto whitespace-nowrap text-xs text-muted">{formatUnix(delivery.created_at_unix)}</span>
      </div>
      <p className="min-w-0 text-xs text-muted">
        to{" "}
        {canOpenLog ? (
          <Link href={settingsHref("webhooks", delivery.webhook_id)} className="font-medium text-accent hover:underline">
            {name}
          </Link>
        ) : (
          <span className="font-medium text-ink">{name}</span>
        )}{" "}
        <span className="break-all font-mono">{delivery.webhook_url}</span>
      </p>
      <p className="text-xs text-muted">
        {delivery.attempts === 1 ? "1 try" : `${delivery.attempts} tries`}
        {delivery.delivered_at_unix
          ? ` · delivered ${formatUnix(delivery.delivered_at_unix)}`
          : delivery.next_attempt_at_unix
            ? ` · next try ${formatUnix(delivery.next_attempt_at_unix)}`
            : ""}
      </p>
      {delivery.last_error ? <p className="break-words text-xs text-danger">{delivery.last_error}</p> : null}
      <details>
        <summary className="cursor-pointer text-xs font-medium text-accent">
          Show the JSON sent<span className="sr-only">{` (${delivery.event_type} to ${name})`}</span>
        </summary>
        {/* Scrollable, so it takes the keyboard's focus (and says what it holds); `w-0 min-w-full`
            keeps its long lines from widening the page on a phone, where the column is auto. */}
        <pre tabIndex={0} role="region" aria-label={`JSON of ${delivery.event_type} to ${name}`} className="mt-2 max-h-72 w-0 min-w-full overflow-auto rounded-md bg-subtle p-2 font-mono text-xs text-ink">{JSON.stringify(delivery.payload, null, 2)}</pre>
      </details>
    </li>
  );
}
