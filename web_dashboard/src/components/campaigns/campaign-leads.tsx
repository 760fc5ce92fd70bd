"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert, Badge } from "@/components/ui/card";
import { outcomeLabel } from "@/lib/campaign-settings";
import { formatUnix } from "@/lib/format";

import { ListSkeleton } from "./campaign-parts";

type LeadsPage = Schemas["LeadsPage"];

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A campaign's leads in import order, with their owners, attempts and last calls (polled with the campaign). */
export function CampaignLeads({ campaignId, refetchInterval }: { campaignId: string; refetchInterval: number | false }) {
  const leads = useInfiniteQuery({
    queryKey: ["campaigns", "leads", campaignId],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/campaigns/{campaign_id}/leads", {
          params: { path: { campaign_id: campaignId }, query: { page_size: 100, cursor: pageParam ?? undefined } },
        }),
      ),
    getNextPageParam: (last: LeadsPage) => last.next_cursor,
    refetchInterval,
  });
  if (leads.isPending) return <ListSkeleton label="Loading leads" />;
  if (leads.error) {
    return (
      <div className="p-5">
        <Alert title="The leads could not be loaded">
          {errorMessage(leads.error)}{" "}
          <button type="button" className="font-medium text-accent underline" onClick={() => void leads.refetch()}>
            Try again
          </button>
        </Alert>
      </div>
    );
  }
  const rows = leads.data.pages.flatMap((page) => page.leads);
  if (rows.length === 0) return <p className="px-5 py-10 text-center text-sm text-muted">No leads yet: upload a leads file.</p>;
  return (
    <>
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">The campaign's leads</caption>
          <thead className="border-b border-line bg-subtle/60 text-xs font-medium uppercase tracking-wide text-muted">
            <tr>
              <th scope="col" className="px-5 py-3 font-medium">Lead</th>
              <th scope="col" className="hidden px-5 py-3 font-medium md:table-cell">Owner</th>
              <th scope="col" className="px-5 py-3 font-medium">Status</th>
              <th scope="col" className="px-5 py-3 text-right font-medium">Attempts</th>
              <th scope="col" className="px-5 py-3 font-medium">Last call</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-line">
            {rows.map((lead) => {
              const name = typeof lead.variables.name === "string" ? lead.variables.name : "";
              return (
                <tr key={lead.lead_id}>
                  <td className="px-5 py-3">
                    <p className="font-medium text-ink">{name || lead.phone_number}</p>
                    <p className="text-xs text-muted">
                      {name ? `${lead.phone_number} · ` : ""}
                      {lead.time_zone ?? "zone from the number"}
                    </p>
                  </td>
                  <td className="hidden px-5 py-3 text-ink md:table-cell">{lead.owner_email ?? <span className="text-muted">—</span>}</td>
                  <td className="px-5 py-3">
                    <Badge tone={lead.status === "calling" ? "accent" : lead.status === "finished" ? "neutral" : "warning"}>{lead.status}</Badge>
                    {lead.status === "pending" && lead.next_attempt_unix_secs ? (
                      <p className="mt-1 text-xs text-muted">next {formatUnix(lead.next_attempt_unix_secs)}</p>
                    ) : null}
                    {lead.status === "finished" && lead.finished_reason ? <p className="mt-1 max-w-56 text-xs text-muted">{lead.finished_reason}</p> : null}
                  </td>
                  <td className="px-5 py-3 text-right tabular-nums">{lead.attempts_made}</td>
                  <td className="px-5 py-3">
                    {lead.last_call ? (
                      <>
                        <Link className="font-medium text-accent underline" href={`/calls/view/?id=${encodeURIComponent(lead.last_call.conversation_id)}`}>
                          {lead.last_call.outcome ? outcomeLabel(lead.last_call.outcome) : capitalized(lead.last_call.status ?? "dialing")}
                        </Link>
                        {lead.last_call.start_time_unix_secs ? <p className="text-xs text-muted">{formatUnix(lead.last_call.start_time_unix_secs)}</p> : null}
                      </>
                    ) : (
                      <span className="text-muted">Not called yet</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {leads.hasNextPage ? (
        <div className="flex justify-center border-t border-line p-4">
          <Button variant="secondary" busy={leads.isFetchingNextPage} onClick={() => void leads.fetchNextPage()}>
            Show more leads
          </Button>
        </div>
      ) : null}
    </>
  );
}
