import { cn } from "@/lib/cn";
import { formatMs, type LatencyStage } from "@/lib/latency";

/**
 * One exchange's latency stages as horizontal bars on a shared time axis (`scaleMs`, so the
 * exchanges of a call compare at a glance); the slowest stage is drawn in the warning colour
 * and named as such for screen readers.
 */
export function LatencyWaterfall({ stages, scaleMs, label }: { stages: LatencyStage[]; scaleMs: number; label: string }) {
  const scale = Math.max(scaleMs, 1);
  return (
    <ul aria-label={label} className="space-y-1.5">
      {stages.map((stage) => (
        <li key={stage.key} className="grid grid-cols-[10.5rem_1fr_4.5rem] items-center gap-3 text-xs">
          <span className={cn("truncate", stage.slowest ? "font-semibold text-warning" : "text-muted")}>
            {stage.label}
            {stage.slowest ? <span className="sr-only"> (slowest stage)</span> : null}
          </span>
          <span className="relative h-3 rounded-sm bg-subtle" aria-hidden="true">
            <span
              data-stage={stage.key}
              data-slowest={stage.slowest || undefined}
              className={cn(
                "absolute inset-y-0 rounded-sm",
                stage.total ? "bg-ink/30" : stage.slowest ? "bg-warning" : "bg-accent/70",
              )}
              style={{ left: `${(stage.startMs / scale) * 100}%`, width: `${Math.max((stage.durationMs / scale) * 100, 0.5)}%` }}
            />
          </span>
          <span className={cn("text-right tabular-nums", stage.slowest ? "font-semibold text-warning" : "text-ink")}>{formatMs(stage.durationMs)}</span>
        </li>
      ))}
    </ul>
  );
}

/** The right end of the longest bar among `stages`. */
export function stagesEnd(stages: LatencyStage[]): number {
  return stages.reduce((end, stage) => Math.max(end, stage.startMs + stage.durationMs), 0);
}
