"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert, Badge, Card } from "@/components/ui/card";
import { humanize } from "@/lib/call-filters";
import { formatClock } from "@/lib/format";

type Conversation = Schemas["ConversationResponse"];

export function Section({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  const id = `section-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return (
    <Card className={className} role="region" aria-labelledby={id}>
      <h2 id={id} className="border-b border-line px-4 py-3 text-sm font-semibold text-ink">
        {title}
      </h2>
      {children}
    </Card>
  );
}

interface Analysis {
  transcript_summary?: string;
  call_summary_title?: string;
  data_collection_results?: Record<string, { value?: unknown; json_schema?: { description?: string } }>;
  evaluation_criteria_results?: Record<string, { result?: string; rationale?: string }>;
  velox?: { status?: string; notes?: string };
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

const RESULT_TONE = { success: "success", failure: "danger" } as const;

/** The post-call analysis: summary, collected data and evaluation criteria, or why there is none yet. */
export function CallAnalysis({ conversation }: { conversation: Conversation }) {
  const analysis = conversation.analysis as Analysis | null | undefined;
  if (!analysis) {
    const status = conversation.velox.analysis_status;
    return (
      <p className="px-4 py-4 text-sm text-muted">
        {status === "pending" || status === "running" ? "The analysis is being made; it appears here when it is done." : "This call has no analysis (nothing was said, or its agent does not analyse calls)."}
      </p>
    );
  }
  const data = Object.entries(analysis.data_collection_results ?? {});
  const criteria = Object.entries(analysis.evaluation_criteria_results ?? {});
  return (
    <div className="space-y-4 px-4 py-4 text-sm">
      {analysis.velox?.status === "failed" ? <Alert title="The analysis failed">{analysis.velox.notes || "The analysing model gave no usable answer; the call is kept as it was."}</Alert> : null}
      <div>
        {analysis.call_summary_title ? <p className="font-medium text-ink">{analysis.call_summary_title}</p> : null}
        <p className="text-ink">{analysis.transcript_summary || "No summary."}</p>
      </div>
      <div>
        <h3 className="text-xs font-semibold uppercase tracking-wide text-muted">Collected data</h3>
        {data.length === 0 ? (
          <p className="mt-1 text-muted">None collected.</p>
        ) : (
          <dl className="mt-1 grid grid-cols-[minmax(0,1fr)_minmax(0,2fr)] gap-x-3 gap-y-1">
            {data.map(([name, result]) => (
              <div key={name} className="contents">
                <dt className="font-mono text-xs text-muted" title={result.json_schema?.description}>
                  {name}
                </dt>
                <dd className="text-ink">{shown(result.value)}</dd>
              </div>
            ))}
          </dl>
        )}
      </div>
      <div>
        <h3 className="text-xs font-semibold uppercase tracking-wide text-muted">Evaluation criteria</h3>
        {criteria.length === 0 ? (
          <p className="mt-1 text-muted">None set for this agent.</p>
        ) : (
          <ul className="mt-1 space-y-1.5">
            {criteria.map(([id, verdict]) => (
              <li key={id}>
                <span className="font-mono text-xs text-muted">{id}</span>{" "}
                <Badge tone={RESULT_TONE[verdict.result as keyof typeof RESULT_TONE] ?? "neutral"}>{humanize(verdict.result ?? "unknown")}</Badge>
                {verdict.rationale ? <p className="text-ink/90">{verdict.rationale}</p> : null}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

/** What happened during the call, by its time in the call. */
export function CallEvents({ events }: { events: Conversation["velox"]["events"] }) {
  if (events.length === 0) return <p className="px-4 py-4 text-sm text-muted">No events were recorded.</p>;
  return (
    <ol className="max-h-80 divide-y divide-line overflow-y-auto text-sm" aria-label="Events">
      {events.map((event, index) => {
        const at = typeof event.at_ms === "number" ? formatClock(event.at_ms / 1000) : "—";
        const data = event.data && typeof event.data === "object" && Object.keys(event.data).length > 0 ? JSON.stringify(event.data) : "";
        return (
          <li key={index} className="grid grid-cols-[3.5rem_1fr] gap-2 px-4 py-1.5">
            <span className="tabular-nums text-muted">{at}</span>
            <span className="min-w-0">
              <span className="text-ink">{humanize(String(event.kind ?? "event"))}</span>
              {data ? <span className="block truncate font-mono text-xs text-muted" title={data}>{data}</span> : null}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

/** Like or dislike the call (a later verdict replaces the earlier one). */
export function CallFeedback({ conversation }: { conversation: Conversation }) {
  const client = useQueryClient();
  const id = conversation.conversation_id;
  const send = useMutation({
    mutationFn: (feedback: "like" | "dislike") => unwrap(api.POST("/v1/convai/conversations/{conversation_id}/feedback", { params: { path: { conversation_id: id } }, body: { feedback } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["calls", "detail", id] }),
  });
  const current = conversation.velox.feedback;
  return (
    <div className="flex flex-col items-end gap-1">
      <div role="group" aria-label="Feedback on this call" className="flex gap-2">
        {(["like", "dislike"] as const).map((verdict) => (
          <Button key={verdict} type="button" size="sm" variant={current === verdict ? "primary" : "secondary"} aria-pressed={current === verdict} busy={send.isPending && send.variables === verdict} onClick={() => send.mutate(verdict)}>
            {verdict === "like" ? "Like" : "Dislike"}
          </Button>
        ))}
      </div>
      {send.error ? <p role="alert" className="text-xs text-danger">Not saved: {errorMessage(send.error)}</p> : null}
    </div>
  );
}
