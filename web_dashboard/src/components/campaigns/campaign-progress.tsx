import { Card } from "@/components/ui/card";
import { OUTCOMES, outcomeLabel } from "@/lib/campaign-settings";

import { ProgressBar, type Campaign } from "./campaign-parts";

const REACHED = new Set<string>(OUTCOMES.filter(([, , person]) => person).map(([value]) => value));

/** The leads' progress as four bars, and how the ended attempts split by outcome. */
export function CampaignProgress({ campaign, live }: { campaign: Campaign; live: boolean }) {
  const progress = campaign.progress;
  const total = progress.leads_total;
  const outcomes = Object.entries(progress.outcomes).sort(([, a], [, b]) => b - a);
  const ended = outcomes.reduce((sum, [, count]) => sum + count, 0);
  return (
    <div className="grid gap-6 md:grid-cols-2">
      <Card className="p-5">
        <div className="mb-4 flex items-baseline justify-between gap-3">
          <h2 className="text-base font-semibold text-ink">Leads</h2>
          <p className="text-xs text-muted" aria-live="polite">
            {live ? "Updates every few seconds" : "Not calling"} · {progress.leads_calling} on a call now
          </p>
        </div>
        <div className="space-y-4">
          <ProgressBar label="Pending" value={progress.leads_pending} total={total} tone="warning" />
          <ProgressBar label="Dialed" value={progress.leads_dialed} total={total} />
          <ProgressBar label="Answered" value={progress.leads_answered} total={total} tone="success" />
          <ProgressBar label="Completed" value={progress.leads_finished} total={total} tone="muted" />
        </div>
      </Card>
      <Card className="p-5">
        <div className="mb-4 flex items-baseline justify-between gap-3">
          <h2 className="text-base font-semibold text-ink">Outcomes</h2>
          <p className="text-xs text-muted">
            {progress.attempts} attempts · {progress.attempts_in_progress} in progress
          </p>
        </div>
        {ended === 0 ? (
          <p className="text-sm text-muted">No attempt has ended yet.</p>
        ) : (
          <>
            <div className="flex h-3 overflow-hidden rounded-full bg-subtle" aria-hidden="true">
              {outcomes.map(([outcome, count]) => (
                <div key={outcome} className={REACHED.has(outcome) ? "bg-success" : "bg-muted/60"} style={{ width: `${(count / ended) * 100}%` }} />
              ))}
            </div>
            <ul className="mt-4 grid grid-cols-2 gap-x-6 gap-y-1.5 text-sm">
              {outcomes.map(([outcome, count]) => (
                <li key={outcome} className="flex items-center justify-between gap-2">
                  <span className="flex items-center gap-2 text-ink">
                    <span aria-hidden="true" className={`h-2.5 w-2.5 rounded-full ${REACHED.has(outcome) ? "bg-success" : "bg-muted/60"}`} />
                    {outcomeLabel(outcome)}
                  </span>
                  <span className="whitespace-nowrap tabular-nums text-muted">
                    {count} · {Math.round((count / ended) * 100)}%
                  </span>
                </li>
              ))}
            </ul>
            <p className="mt-3 text-xs text-muted">Green: a person was reached. Grey: nobody was (no answer, busy, a machine, failed).</p>
          </>
        )}
      </Card>
    </div>
  );
}
