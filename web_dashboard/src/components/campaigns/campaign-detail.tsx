"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Card, Skeleton } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/dialog";
import { formatUnix } from "@/lib/format";

import { AddLeads } from "./add-leads";
import { CampaignAttempts } from "./campaign-attempts";
import { CampaignLeads } from "./campaign-leads";
import { CampaignProgress } from "./campaign-progress";
import { StateBadge, useAgentNames, usePhoneNumbers, type Campaign } from "./campaign-parts";

/** How often a campaign that may be calling is read again. */
export const LIVE_POLL_MS = 3_000;
const LIVE_STATES = new Set(["scheduled", "running", "paused"]);
type Action = "start" | "pause" | "resume" | "cancel";

/** One campaign: live progress, outcomes, attempts and leads; start, pause, resume, cancel; its report. */
export function CampaignDetail({ campaignId, canWrite }: { campaignId: string; canWrite: boolean }) {
  const client = useQueryClient();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const campaign = useQuery({
    queryKey: ["campaigns", "detail", campaignId],
    queryFn: () => unwrap(api.GET("/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
    refetchInterval: (query) => (query.state.data && LIVE_STATES.has(query.state.data.state) ? LIVE_POLL_MS : false),
  });
  const agents = useAgentNames();
  const numbers = usePhoneNumbers();
  const act = useMutation({
    mutationFn: (action: Action) => {
      const options = { params: { path: { campaign_id: campaignId } } };
      const calls = {
        start: () => api.POST("/v1/campaigns/{campaign_id}/start", options),
        pause: () => api.POST("/v1/campaigns/{campaign_id}/pause", options),
        resume: () => api.POST("/v1/campaigns/{campaign_id}/resume", options),
        cancel: () => api.POST("/v1/campaigns/{campaign_id}/cancel", options),
      };
      return unwrap(calls[action]());
    },
    onSuccess: (updated) => {
      client.setQueryData(["campaigns", "detail", campaignId], updated);
      setConfirmCancel(false);
      void client.invalidateQueries({ queryKey: ["campaigns"] });
    },
  });

  if (campaign.isPending) return <DetailSkeleton />;
  if (campaign.error) {
    return (
      <Alert title="This campaign could not be opened">
        {errorMessage(campaign.error)} Go back to the{" "}
        <Link href="/campaigns/" className="font-medium text-accent underline">
          campaigns
        </Link>
        .
      </Alert>
    );
  }
  const data: Campaign = campaign.data;
  const live = LIVE_STATES.has(data.state);
  const poll = live ? LIVE_POLL_MS : false;
  const number = numbers.data?.find((n) => n.phone_number_id === data.agent_phone_number_id)?.phone_number;
  const terminal = data.state === "completed" || data.state === "cancelled";
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/campaigns/" className="text-muted hover:text-ink">
          ← Campaigns
        </Link>
      </p>
      <PageHeader
        title={data.name}
        description={
          <>
            {agents.get(data.agent_id) ?? data.agent_id} · from {number ?? data.agent_phone_number_id} · created {formatUnix(data.created_at_unix_secs)}
            {data.completed_at_unix_secs ? ` · ended ${formatUnix(data.completed_at_unix_secs)}` : ""}
          </>
        }
        actions={
          <>
            <StateBadge state={data.state} />
            {canWrite && data.state === "draft" ? (
              <Button busy={act.isPending && act.variables === "start"} disabled={data.progress.leads_total === 0} onClick={() => act.mutate("start")}>
                Start
              </Button>
            ) : null}
            {canWrite && data.state === "running" ? (
              <Button variant="secondary" busy={act.isPending && act.variables === "pause"} onClick={() => act.mutate("pause")}>
                Pause
              </Button>
            ) : null}
            {canWrite && data.state === "paused" ? (
              <Button busy={act.isPending && act.variables === "resume"} onClick={() => act.mutate("resume")}>
                Resume
              </Button>
            ) : null}
            {canWrite && !terminal ? (
              <Button variant="ghost" onClick={() => setConfirmCancel(true)}>
                Cancel campaign
              </Button>
            ) : null}
            <Button variant="secondary" asChild>
              <a href={`/v1/campaigns/${encodeURIComponent(campaignId)}/report`} download>
                Export report (CSV)
              </a>
            </Button>
          </>
        }
      />
      {act.error && !confirmCancel ? (
        <Alert className="mb-4" title="That did not work">
          {errorMessage(act.error)}
        </Alert>
      ) : null}
      {data.state === "draft" && data.progress.leads_total === 0 ? (
        <Alert className="mb-4" tone="info" title="No leads yet">
          Upload a leads file below; the campaign can start once it has leads.
        </Alert>
      ) : null}
      <CampaignProgress campaign={data} live={live} />
      <div className="mt-6 grid gap-6 xl:grid-cols-[2fr_1fr]">
        <Card className="overflow-hidden">
          <h2 className="border-b border-line px-5 py-3 text-base font-semibold text-ink">Leads</h2>
          <CampaignLeads campaignId={campaignId} refetchInterval={poll} />
        </Card>
        <Card className="overflow-hidden">
          <h2 className="border-b border-line px-5 py-3 text-base font-semibold text-ink">Latest attempts</h2>
          <CampaignAttempts campaignId={campaignId} refetchInterval={poll} />
        </Card>
      </div>
      {canWrite && !terminal ? <AddLeads campaignId={campaignId} /> : null}
      <ConfirmDialog
        open={confirmCancel}
        onOpenChange={setConfirmCancel}
        title="Cancel this campaign?"
        description="No lead is called again, and a cancelled campaign cannot be restarted. Calls in progress finish."
        confirmLabel="Cancel campaign"
        busy={act.isPending}
        error={act.error && confirmCancel ? errorMessage(act.error) : null}
        onConfirm={() => act.mutate("cancel")}
      />
    </>
  );
}

function DetailSkeleton() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading the campaign" className="space-y-6">
      <Skeleton className="h-8 w-72" />
      <Skeleton className="h-4 w-96 max-w-full" />
      <div className="grid gap-4 md:grid-cols-2">
        <Skeleton className="h-40" />
        <Skeleton className="h-40" />
      </div>
      <Skeleton className="h-64" />
    </div>
  );
}
