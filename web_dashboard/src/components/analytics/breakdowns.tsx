"use client";

import { useQueries, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Alert, Card, Skeleton } from "@/components/ui/card";
import { Field, Select } from "@/components/ui/field";
import {
  campaignRows,
  formatCount,
  formatMinutes,
  formatMs,
  formatPerCall,
  formatRate,
  funnelRows,
  funnelSummary,
  splitRows,
  splitSummary,
  type AgentFigures,
  type CampaignRow,
  type FunnelRow,
  type SplitRow,
  type Summary,
} from "@/lib/analytics-figures";
import { humanize } from "@/lib/call-filters";

import { ChartFigure, DataTable, type Column } from "./chart-figure";
import { FunnelChart, SplitChart } from "./charts";

type Period = { call_start_after_unix: number; call_start_before_unix: number };

/** The campaigns whose figures are asked for, one request each: the newest this many. */
export const CAMPAIGNS_SHOWN = 20;

function Section({ title, description, children }: { title: string; description: string; children: React.ReactNode }) {
  return (
    <section aria-label={title} className="mt-8">
      <h2 className="text-lg font-semibold text-ink">{title}</h2>
      <p className="mb-3 mt-0.5 text-sm text-muted">{description}</p>
      {children}
    </section>
  );
}

const FIGURE_COLUMNS: Column<Summary | AgentFigures>[] = [
  { header: "Calls", cell: (row) => formatCount(row.calls), numeric: true },
  { header: "Minutes", cell: (row) => formatMinutes(row.minutes), numeric: true },
  { header: "Success rate", cell: (row) => formatRate(row.success_rate), numeric: true },
  { header: "V2V p50", cell: (row) => formatMs(row.voice_to_voice_p50_ms), numeric: true },
  { header: "V2V p95", cell: (row) => formatMs(row.voice_to_voice_p95_ms), numeric: true },
  { header: "Interruptions / call", cell: (row) => formatPerCall(row.interruptions_per_call), numeric: true },
  { header: "Transfers", cell: (row) => formatCount(row.transfers), numeric: true },
];

export function AgentBreakdown({ period }: { period: Period }) {
  const agents = useQuery({
    queryKey: ["analytics", "agents", period],
    queryFn: () => unwrap(api.GET("/v1/analytics/agents", { params: { query: period } })),
  });
  const columns: Column<AgentFigures>[] = [
    {
      header: "Agent",
      cell: (row) => (
        <Link className="font-medium text-accent hover:underline" href={`/calls/?agent_id=${encodeURIComponent(row.agent_id)}`}>
          {row.agent_name || row.agent_id}
        </Link>
      ),
    },
    ...FIGURE_COLUMNS,
  ];
  return (
    <Section title="Per agent" description="Each agent with calls in the period, the busiest first; an agent opens its calls.">
      <Card className="overflow-x-auto p-2" tabIndex={0} role="region" aria-label="Per agent table">
        {agents.isPending ? (
          <Skeleton className="m-2 h-24" />
        ) : agents.error ? (
          <Alert className="m-2" title="The per-agent figures could not be loaded">{errorMessage(agents.error)}</Alert>
        ) : agents.data.agents.length === 0 ? (
          <p className="p-3 text-sm text-muted">No agent had calls in this period.</p>
        ) : (
          <DataTable caption="Per agent" columns={columns} rows={agents.data.agents} rowKey={(row) => row.agent_id} />
        )}
      </Card>
    </Section>
  );
}

/** Each campaign's figures for the period (its calls), and a campaign's funnel (all time). */
export function CampaignBreakdown({ period }: { period: Period }) {
  const campaigns = useQuery({
    queryKey: ["campaigns", "list"],
    queryFn: () => unwrap(api.GET("/v1/campaigns")),
  });
  const shown = (campaigns.data ?? []).slice().sort((a, b) => b.created_at_unix_secs - a.created_at_unix_secs).slice(0, CAMPAIGNS_SHOWN);
  const figures = useQueries({
    queries: shown.map((campaign) => ({
      queryKey: ["analytics", "summary", period, campaign.campaign_id],
      queryFn: () => unwrap(api.GET("/v1/analytics/summary", { params: { query: { ...period, campaign_id: campaign.campaign_id } } })),
    })),
  });
  const byCampaign = new Map<string, Summary>();
  shown.forEach((campaign, index) => {
    const data = figures[index]?.data;
    if (data) byCampaign.set(campaign.campaign_id, data);
  });
  const rows = campaignRows(shown, byCampaign);
  const failed = figures.find((query) => query.error)?.error;
  const [picked, setPicked] = useState<string>("");
  const funnelFor = picked || rows[0]?.campaign.campaign_id || "";

  const columns: Column<CampaignRow>[] = [
    { header: "Campaign", cell: (row) => row.campaign.name },
    { header: "State", cell: (row) => humanize(row.campaign.state) },
    ...FIGURE_COLUMNS.map((column) => ({
      ...column,
      cell: (row: CampaignRow) => (row.figures ? column.cell(row.figures) : "…"),
    })),
  ];
  const more = (campaigns.data?.length ?? 0) - shown.length;
  return (
    <Section
      title="Per campaign"
      description={`Each campaign's calls in the period${more > 0 ? ` (the ${CAMPAIGNS_SHOWN} newest campaigns; ${more} older not shown)` : ""}, and how far its leads got.`}
    >
      {campaigns.isPending ? (
        <Skeleton className="h-24" />
      ) : campaigns.error ? (
        <Alert title="The campaigns could not be loaded">{errorMessage(campaigns.error)}</Alert>
      ) : rows.length === 0 ? (
        <Card className="p-4 text-sm text-muted">No campaigns yet: a campaign&apos;s figures appear here once it has dialed.</Card>
      ) : (
        <div className="space-y-4">
          <Card className="overflow-x-auto p-2" tabIndex={0} role="region" aria-label="Per campaign table">
            {failed ? <Alert className="m-2" title="Some campaigns' figures could not be loaded">{errorMessage(failed)}</Alert> : null}
            <DataTable caption="Per campaign" columns={columns} rows={rows} rowKey={(row) => row.campaign.campaign_id} />
          </Card>
          <CampaignFunnel campaignId={funnelFor} rows={rows} onPick={setPicked} />
        </div>
      )}
    </Section>
  );
}

function CampaignFunnel({ campaignId, rows, onPick }: { campaignId: string; rows: CampaignRow[]; onPick: (id: string) => void }) {
  const funnel = useQuery({
    queryKey: ["analytics", "funnel", campaignId],
    queryFn: () => unwrap(api.GET("/v1/analytics/campaigns/{campaign_id}/funnel", { params: { path: { campaign_id: campaignId } } })),
    enabled: Boolean(campaignId),
  });
  const stages = funnelRows(funnel.data);
  const reached = splitRows(funnel.data?.outcomes);
  return (
    <div className="space-y-3">
      <Field label="Funnel of" className="max-w-sm">
        <Select value={campaignId} onChange={(event) => onPick(event.target.value)}>
          {rows.map((row) => (
            <option key={row.campaign.campaign_id} value={row.campaign.campaign_id}>
              {row.campaign.name}
            </option>
          ))}
        </Select>
      </Field>
      {funnel.isPending ? (
        <Skeleton className="h-60" />
      ) : funnel.error ? (
        <Alert title="The funnel could not be loaded">{errorMessage(funnel.error)}</Alert>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <ChartFigure<FunnelRow>
            title="Campaign funnel"
            summary={`All time: ${funnelSummary(stages)}`}
            rows={stages}
            rowKey={(row) => row.stage}
            columns={[
              { header: "Stage", cell: (row) => row.stage },
              { header: "Leads", cell: (row) => formatCount(row.count), numeric: true },
              { header: "Of all leads", cell: (row) => `${row.share}%`, numeric: true },
            ]}
          >
            <FunnelChart rows={stages} />
          </ChartFigure>
          <ChartFigure<SplitRow>
            title="Outcomes of the leads reached"
            summary={reached.length ? `All time, each reached lead's latest outcome: ${splitSummary(reached, "outcomes")}` : "No lead has been reached yet."}
            rows={reached}
            rowKey={(row) => row.key}
            columns={[
              { header: "Outcome", cell: (row) => row.label },
              { header: "Leads", cell: (row) => formatCount(row.count), numeric: true },
              { header: "Share", cell: (row) => `${row.share}%`, numeric: true },
            ]}
          >
            <SplitChart rows={reached} />
          </ChartFigure>
        </div>
      )}
    </div>
  );
}
