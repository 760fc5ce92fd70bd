"use client";

import { queryOptions, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type ReactNode } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Alert, Badge, Card, Skeleton, type BadgeTone } from "@/components/ui/card";
import { humanize } from "@/lib/call-filters";
import { formatClock, formatUnix } from "@/lib/format";
import { exchanges, formatMs } from "@/lib/latency";

import { formatDuration } from "./call-list";
import { CallAnalysis, CallEvents, CallFeedback, Section } from "./call-review";
import { CallTranscript } from "./call-transcript";
import { CallWebhooks } from "./call-webhooks";
import { LatencyWaterfall, stagesEnd } from "./latency-waterfall";

type Conversation = Schemas["ConversationResponse"];

const CHANNELS: Record<string, string> = { twilio: "Twilio", sip: "SIP", websocket: "Web/app" };
const STATUS_TONE: Record<string, BadgeTone> = { done: "success", failed: "danger", "in-progress": "accent" };
const VERDICT_TONE: Record<string, BadgeTone> = { success: "success", failure: "danger" };
const SENTIMENT_TONE: Record<string, BadgeTone> = { positive: "success", negative: "danger" };

interface AnalysisVerdicts {
  call_successful?: string;
  velox?: { outcome?: string | null; sentiment?: string | null };
}

/** The call itself (`GET /v1/convai/conversations/{id}`), read by the page and started by its route. */
export function conversationQuery(conversationId: string) {
  return queryOptions({
    queryKey: ["calls", "detail", conversationId],
    queryFn: () => unwrap(api.GET("/v1/convai/conversations/{conversation_id}", { params: { path: { conversation_id: conversationId } } })),
  });
}

/** One call as a support lead reviews it: what it was, what was said (and heard), how fast the agent answered, what the analysis made of it. */
export function CallDetail({ conversationId }: { conversationId: string }) {
  const call = useQuery(conversationQuery(conversationId));
  const agentId = call.data?.agent_id;
  const agent = useQuery({
    queryKey: ["agents", "detail", agentId],
    queryFn: () => unwrap(api.GET("/v1/convai/agents/{agent_id}", { params: { path: { agent_id: agentId ?? "" } } })),
    enabled: Boolean(agentId),
    retry: false,
  });

  if (call.isPending) return <DetailSkeleton />;
  if (call.error) {
    return (
      <Alert title="This call could not be opened">
        {errorMessage(call.error)} Go back to the{" "}
        <Link href="/calls/" className="font-medium text-accent underline">
          list of calls
        </Link>
        .
      </Alert>
    );
  }
  const conversation = call.data;
  const agentName = agent.data?.name ?? (agent.error ? "Deleted agent" : conversation.agent_id);
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/calls/" className="text-accent hover:underline">
          ← Calls
        </Link>
      </nav>
      <PageHeader
        title={`Call with ${agentName}`}
        description={
          <>
            {formatUnix(conversation.metadata.start_time_unix_secs)} · <span className="font-mono">{conversation.conversation_id}</span>
          </>
        }
        actions={<CallFeedback conversation={conversation} />}
      />
      <CallFacts conversation={conversation} agentName={agentName} />
      <div className="mt-4 grid gap-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Section title="Transcript" className="self-start overflow-hidden">
          <CallTranscript conversationId={conversation.conversation_id} transcript={conversation.transcript} hasAudio={conversation.has_audio} events={conversation.velox.events} />
        </Section>
        <div className="space-y-4">
          <Section title="Latency per turn">
            <Waterfalls conversation={conversation} />
          </Section>
          <Section title="Analysis">
            <CallAnalysis conversation={conversation} />
          </Section>
          <Section title="Events">
            <CallEvents events={conversation.velox.events} />
          </Section>
          <Section title="Webhook deliveries">
            <CallWebhooks conversationId={conversation.conversation_id} />
          </Section>
        </div>
      </div>
      <RawJson conversation={conversation} />
    </>
  );
}

/** The API's answer as it came, written out only once opened (a long call's JSON is large). */
function RawJson({ conversation }: { conversation: Conversation }) {
  const [open, setOpen] = useState(false);
  return (
    <Card className="mt-4">
      <details onToggle={(event) => setOpen(event.currentTarget.open)}>
        <summary className="cursor-pointer px-4 py-3 text-sm font-semibold text-ink">Raw JSON</summary>
        {open ? <pre className="max-h-[32rem] overflow-auto border-t border-line bg-subtle/50 p-4 font-mono text-xs text-ink">{JSON.stringify(conversation, null, 2)}</pre> : null}
      </details>
    </Card>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium text-muted">{label}</dt>
      <dd className="mt-0.5 truncate text-sm text-ink">{children}</dd>
    </div>
  );
}

function CallFacts({ conversation, agentName }: { conversation: Conversation; agentName: string }) {
  const { direction, from_number: from, to_number: to } = conversation.velox;
  const verdicts = (conversation.analysis ?? {}) as AnalysisVerdicts;
  const success = verdicts.call_successful ?? "unknown";
  const outcome = verdicts.velox?.outcome;
  const sentiment = verdicts.velox?.sentiment;
  return (
    <Card className="p-4">
      <dl className="grid grid-cols-2 gap-4 md:grid-cols-4 xl:grid-cols-6">
        <Fact label="Agent">
          <Link href={`/agents/edit/?id=${encodeURIComponent(conversation.agent_id)}`} className="text-accent hover:underline">
            {agentName}
          </Link>
        </Fact>
        <Fact label="Channel">{CHANNELS[conversation.velox.channel] ?? humanize(conversation.velox.channel)}</Fact>
        <Fact label="Direction">{humanize(direction)}</Fact>
        <Fact label="From">{from ? <span className="font-mono">{from}</span> : "—"}</Fact>
        <Fact label="To">{to ? <span className="font-mono">{to}</span> : "—"}</Fact>
        <Fact label="Started">{formatUnix(conversation.metadata.start_time_unix_secs)}</Fact>
        <Fact label="Duration">{formatDuration(conversation.metadata.call_duration_secs)}</Fact>
        <Fact label="Status">
          <Badge tone={STATUS_TONE[conversation.status] ?? "neutral"}>{humanize(conversation.status)}</Badge>
        </Fact>
        <Fact label="Ended because">{conversation.metadata.termination_reason ? humanize(conversation.metadata.termination_reason) : "—"}</Fact>
        <Fact label="Outcome">{outcome ? humanize(outcome) : "—"}</Fact>
        <Fact label="Sentiment">{sentiment ? <Badge tone={SENTIMENT_TONE[sentiment] ?? "neutral"}>{humanize(sentiment)}</Badge> : "—"}</Fact>
        <Fact label="Success">
          <Badge tone={VERDICT_TONE[success] ?? "neutral"}>{humanize(success)}</Badge>
        </Fact>
      </dl>
    </Card>
  );
}

function Waterfalls({ conversation }: { conversation: Conversation }) {
  const found = exchanges(conversation.transcript);
  if (found.length === 0) return <p className="px-4 py-4 text-sm text-muted">No turn of this call has latency figures (a text conversation, or nothing was answered).</p>;
  const scale = Math.max(...found.map((exchange) => stagesEnd(exchange.stages)));
  return (
    <div className="divide-y divide-line">
      <p className="px-4 py-2 text-xs text-muted">From the end of the caller&apos;s speech; bars share one scale ({formatMs(scale)} across), the slowest stage of each turn in orange.</p>
      {found.map(({ index, stages }) => {
        const turn = conversation.transcript[index];
        const who = turn?.role === "user" ? "Caller" : "Agent";
        return (
          <div key={index} className="px-4 py-3">
            <p className="mb-2 truncate text-xs text-ink" title={turn?.message}>
              <span className="font-semibold">
                Turn {index + 1} · {who} at {formatClock(turn?.time_in_call_secs ?? 0)}
              </span>{" "}
              <span className="text-muted">“{turn?.message}”</span>
            </p>
            <LatencyWaterfall stages={stages} scaleMs={scale} label={`Latency of turn ${index + 1}`} />
          </div>
        );
      })}
    </div>
  );
}

function DetailSkeleton() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading the call" className="space-y-4">
      <Skeleton className="h-8 w-72" />
      <Skeleton className="h-24 w-full" />
      <div className="grid gap-4 lg:grid-cols-[3fr_2fr]">
        <Skeleton className="h-96" />
        <Skeleton className="h-96" />
      </div>
    </div>
  );
}
