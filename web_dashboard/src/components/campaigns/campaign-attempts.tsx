"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Alert } from "@/components/ui/card";
import { outcomeLabel } from "@/lib/campaign-settings";
import { formatUnix } from "@/lib/format";

import { ListSkeleton } from "./campaign-parts";

const SHOWN = 20;

/** The campaign's latest attempts, newest first: each dial, its status and how it ended. */
export function CampaignAttempts({ campaignId, refetchInterval }: { campaignId: string; refetchInterval: number | false }) {
  const attempts = useQuery({
    queryKey: ["campaigns", "attempts", campaignId],
    queryFn: () => unwrap(api.GET("/v1/campaigns/{campaign_id}/attempts", { params: { path: { campaign_id: campaignId } } })),
    refetchInterval,
  });
  if (attempts.isPending) return <ListSkeleton label="Loading attempts" />;
  if (attempts.error) {
    return (
      <div className="p-5">
        <Alert title="The attempts could not be loaded">{errorMessage(attempts.error)}</Alert>
      </div>
    );
  }
  const latest = [...attempts.data].sort((a, b) => b.claimed_at_unix_secs - a.claimed_at_unix_secs).slice(0, SHOWN);
  if (latest.length === 0) return <p className="px-5 py-10 text-center text-sm text-muted">No call placed yet.</p>;
  return (
    <ul className="divide-y divide-line">
      {latest.map((attempt) => (
        <li key={attempt.attempt_id} className="px-5 py-3 text-sm">
          <div className="flex items-center justify-between gap-3">
            <span className="font-medium text-ink">
              {attempt.outcome ? outcomeLabel(attempt.outcome) : attempt.status === "ended" ? "Ended" : `${attempt.status[0]?.toUpperCase()}${attempt.status.slice(1)}…`}
            </span>
            <span className="text-xs text-muted">attempt {attempt.number}</span>
          </div>
          <p className="mt-0.5 text-xs text-muted">
            {formatUnix(attempt.claimed_at_unix_secs)}
            {attempt.call_sid ? (
              <>
                {" · "}
                <Link className="text-accent underline" href={`/calls/view/?id=${encodeURIComponent(attempt.conversation_id)}`}>
                  the call
                </Link>
              </>
            ) : null}
            {attempt.detail ? ` · ${attempt.detail}` : ""}
          </p>
        </li>
      ))}
    </ul>
  );
}
