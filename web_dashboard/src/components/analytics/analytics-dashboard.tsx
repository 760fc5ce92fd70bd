"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Card, Skeleton } from "@/components/ui/card";
import { formatCount, formatMinutes, formatMs, formatPerCall, formatRate, formatSeconds, type Summary } from "@/lib/analytics-figures";
import { browserTimeZone, dayCount, longDay, rangeFromUrl, rangeQueries, rangeToUrl, type AnalyticsRange } from "@/lib/analytics-range";

import { AgentBreakdown, CampaignBreakdown } from "./breakdowns";
import { PeriodCharts } from "./period-charts";
import { RangePicker } from "./range-picker";

/**
 * The organization's calls over a period as figures and charts (`/v1/analytics/…`): totals,
 * per day in the time zone chosen, per agent and per campaign. The period and zone live in the
 * URL, so a view can be shared.
 */
export function AnalyticsDashboard({ campaigns }: { campaigns: boolean }) {
  const router = useRouter();
  const params = useSearchParams();
  const ownZone = useMemo(() => browserTimeZone(), []);
  const [initial] = useState(() => rangeFromUrl(new URLSearchParams(params.toString()), ownZone));
  const [range, setRange] = useState<AnalyticsRange>(initial.range);

  useEffect(() => {
    const query = rangeToUrl(range, ownZone);
    router.replace(query ? `/analytics/?${query}` : "/analytics/", { scroll: false });
  }, [range, ownZone, router]);

  const queries = useMemo(() => rangeQueries(range), [range]);
  const summary = useQuery({
    queryKey: ["analytics", "summary", queries.period],
    queryFn: () => unwrap(api.GET("/v1/analytics/summary", { params: { query: queries.period } })),
  });
  const daily = useQuery({
    queryKey: ["analytics", "daily", queries.daily],
    queryFn: () => unwrap(api.GET("/v1/analytics/daily", { params: { query: queries.daily } })),
  });
  const failed = summary.error ?? daily.error;

  return (
    <>
      <PageHeader
        title="Analytics"
        description={`${longDay(range.from)} to ${longDay(range.to)} (${dayCount(range.from, range.to)} days), days from midnight to midnight in ${range.timeZone.replace(/_/g, " ")}.`}
      />
      <Card className="mb-6 p-4">
        <RangePicker range={range} ownZone={ownZone} onChange={setRange} />
        {initial.problem ? (
          <Alert tone="info" className="mt-3">
            {initial.problem}
          </Alert>
        ) : null}
      </Card>

      {failed ? (
        <Alert title="The figures could not be loaded">
          {errorMessage(failed)}{" "}
          <button
            type="button"
            className="font-medium text-accent underline"
            onClick={() => {
              void summary.refetch();
              void daily.refetch();
            }}
          >
            Try again
          </button>
        </Alert>
      ) : !summary.data || !daily.data ? (
        <LoadingFigures />
      ) : summary.data.calls === 0 ? (
        <Card className="flex flex-col items-center px-6 py-16 text-center">
          <h2 className="text-base font-semibold text-ink">No calls in this period</h2>
          <p className="mt-1 max-w-md text-sm text-muted">
            Calls are counted on the day they start, in the time zone chosen. Pick a longer period, or check back once your agents have taken or placed calls.
          </p>
          <Button className="mt-4" variant="secondary" onClick={() => setRange(rangeFromUrl(new URLSearchParams("range=90d"), range.timeZone).range)}>
            Show the last 90 days
          </Button>
        </Card>
      ) : (
        <>
          <Totals summary={summary.data} />
          <PeriodCharts summary={summary.data} daily={daily.data} />
          <AgentBreakdown period={queries.period} />
          {campaigns ? <CampaignBreakdown period={queries.period} /> : null}
        </>
      )}
    </>
  );
}

function Totals({ summary }: { summary: Summary }) {
  const tiles: { label: string; value: string; hint?: string }[] = [
    { label: "Calls", value: formatCount(summary.calls) },
    { label: "Minutes", value: formatMinutes(summary.minutes), hint: `average ${formatSeconds(summary.average_duration_secs)}, p95 ${formatSeconds(summary.p95_duration_secs)}` },
    { label: "Success rate", value: formatRate(summary.success_rate), hint: "of the calls judged" },
    { label: "Voice-to-voice p50", value: formatMs(summary.voice_to_voice_p50_ms), hint: `p95 ${formatMs(summary.voice_to_voice_p95_ms)} over ${formatCount(summary.voice_to_voice_turns)} turns` },
    { label: "Interruptions per call", value: formatPerCall(summary.interruptions_per_call) },
    { label: "Transfers", value: formatCount(summary.transfers), hint: "handed to a person" },
    { label: "Provider failures", value: formatCount(summary.provider_failures) },
  ];
  return (
    <dl className="mb-6 grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-7" aria-label="Totals">
      {tiles.map((tile) => (
        <Card key={tile.label} className="p-3">
          <dt className="text-xs font-medium text-muted">{tile.label}</dt>
          <dd className="mt-1 text-xl font-semibold tabular-nums text-ink">{tile.value}</dd>
          {tile.hint ? <dd className="mt-0.5 text-xs text-muted">{tile.hint}</dd> : null}
        </Card>
      ))}
    </dl>
  );
}

function LoadingFigures() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading the figures" className="space-y-4">
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-7">
        {Array.from({ length: 7 }, (_, index) => (
          <Skeleton key={index} className="h-20" />
        ))}
      </div>
      <Skeleton className="h-80" />
      <div className="grid gap-4 lg:grid-cols-2">
        <Skeleton className="h-80" />
        <Skeleton className="h-80" />
      </div>
    </div>
  );
}
