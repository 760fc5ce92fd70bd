"use client";

import * as Tabs from "@radix-ui/react-tabs";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Card } from "@/components/ui/card";
import { formatUnix } from "@/lib/format";

import { BatchList } from "./batch-list";
import { ListSkeleton, ProgressBar, StateBadge, useAgentNames, usePhoneNumbers } from "./campaign-parts";

const TAB =
  "rounded-md px-3 py-1.5 text-sm font-medium text-muted transition-colors hover:text-ink data-[state=active]:bg-surface data-[state=active]:text-ink data-[state=active]:shadow-sm";

/** Campaigns and, beside them, the same runs as ElevenLabs' batch-calling API lists them. */
export function CampaignList({ canWrite }: { canWrite: boolean }) {
  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Outbound calls to a list of leads, in each lead's own calling hours."
        actions={
          canWrite ? (
            <Button asChild>
              <Link href="/campaigns/new/">New campaign</Link>
            </Button>
          ) : null
        }
      />
      <Tabs.Root defaultValue="campaigns">
        <Tabs.List aria-label="Campaign views" className="mb-4 inline-flex gap-1 rounded-lg border border-line bg-subtle p-1">
          <Tabs.Trigger value="campaigns" className={TAB}>
            Campaigns
          </Tabs.Trigger>
          <Tabs.Trigger value="batches" className={TAB}>
            Batch calls
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="campaigns">
          <Campaigns canWrite={canWrite} />
        </Tabs.Content>
        <Tabs.Content value="batches">
          <BatchList />
        </Tabs.Content>
      </Tabs.Root>
    </>
  );
}

function Campaigns({ canWrite }: { canWrite: boolean }) {
  const campaigns = useQuery({
    queryKey: ["campaigns", "list"],
    queryFn: () => unwrap(api.GET("/v1/campaigns")),
    refetchInterval: 10_000,
  });
  const agents = useAgentNames();
  const numbers = usePhoneNumbers();
  const numberOf = new Map((numbers.data ?? []).map((n) => [n.phone_number_id, n.phone_number]));

  return (
    <Card className="overflow-hidden">
      {campaigns.isPending ? (
        <ListSkeleton label="Loading campaigns" />
      ) : campaigns.error ? (
        <div className="p-6">
          <Alert title="The campaigns could not be loaded">
            {errorMessage(campaigns.error)}{" "}
            <button type="button" className="font-medium text-accent underline" onClick={() => void campaigns.refetch()}>
              Try again
            </button>
          </Alert>
        </div>
      ) : campaigns.data.length === 0 ? (
        <div className="flex flex-col items-center px-6 py-16 text-center">
          <h2 className="text-base font-semibold text-ink">No campaigns yet</h2>
          <p className="mt-1 max-w-md text-sm text-muted">
            A campaign calls every lead of a CSV file with one agent, from one of your numbers, inside calling hours you choose.
          </p>
          {canWrite ? (
            <Button asChild className="mt-5">
              <Link href="/campaigns/new/">Create your first campaign</Link>
            </Button>
          ) : (
            <p className="mt-3 text-sm text-muted">A manager or an admin can create one.</p>
          )}
        </div>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="border-b border-line bg-subtle/60 text-xs font-medium uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">Campaign</th>
                <th scope="col" className="px-5 py-3 font-medium">Status</th>
                <th scope="col" className="hidden px-5 py-3 font-medium md:table-cell">Agent and number</th>
                <th scope="col" className="w-56 min-w-40 px-5 py-3 font-medium">Leads finished</th>
                <th scope="col" className="px-5 py-3 font-medium">Created</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {campaigns.data.map((campaign) => (
                <tr key={campaign.campaign_id} className="group hover:bg-subtle/50">
                  <td className="px-5 py-3.5">
                    <Link href={`/campaigns/view/?id=${encodeURIComponent(campaign.campaign_id)}`} className="font-medium text-ink group-hover:text-accent">
                      {campaign.name}
                    </Link>
                    <p className="mt-0.5 hidden font-mono text-xs text-muted xl:block">{campaign.campaign_id}</p>
                  </td>
                  <td className="px-5 py-3.5">
                    <StateBadge state={campaign.state} />
                  </td>
                  <td className="hidden px-5 py-3.5 md:table-cell">
                    <p className="text-ink">{agents.get(campaign.agent_id) ?? campaign.agent_id}</p>
                    <p className="text-xs text-muted">{numberOf.get(campaign.agent_phone_number_id) ?? campaign.agent_phone_number_id}</p>
                  </td>
                  <td className="px-5 py-3.5">
                    <ProgressBar compact label="Leads finished" value={campaign.progress.leads_finished} total={campaign.progress.leads_total} tone="success" />
                  </td>
                  <td className="whitespace-nowrap px-5 py-3.5 text-muted">{formatUnix(campaign.created_at_unix_secs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
