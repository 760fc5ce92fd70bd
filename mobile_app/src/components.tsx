import type { ReactNode } from "react";
import { outcomeLabel, outcomeTone, when } from "./format";
import type { QueuedOutcome } from "./store";

export function OutcomeChip({ outcome }: { outcome: string | null | undefined }): JSX.Element | null {
  if (!outcome) return null;
  return <span className={`chip chip-${outcomeTone(outcome)}`}>{outcomeLabel(outcome)}</span>;
}

export function TopBar(props: { title: string; onBack?: () => void; actions?: ReactNode }): JSX.Element {
  return (
    <header className="topbar">
      {props.onBack ? (
        <button type="button" className="icon-button" onClick={props.onBack} aria-label="Back">
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M15 5l-7 7 7 7" />
          </svg>
        </button>
      ) : null}
      <h1>{props.title}</h1>
      <div className="topbar-actions">{props.actions}</div>
    </header>
  );
}

/** When the lists were last synced, and whether this phone is offline. */
export function SyncLine(props: { syncedAt: Date | null; offline: boolean; refreshing: boolean }): JSX.Element {
  const { syncedAt, offline, refreshing } = props;
  return (
    <p className="sync-line" role="status" data-synced-at={syncedAt ? String(syncedAt.getTime()) : ""}>
      {offline ? <span className="chip chip-bad">Offline</span> : null}
      <span>
        {refreshing
          ? "Syncing…"
          : syncedAt
            ? `Last synced ${when(syncedAt)}`
            : "Not synced yet"}
      </span>
    </p>
  );
}

/** The outcomes recorded on this phone that the server has not stored yet. */
export function OutboxBanner({ outbox }: { outbox: QueuedOutcome[] }): JSX.Element | null {
  if (outbox.length === 0) return null;
  const waiting = outbox.filter((item) => item.state === "waiting").length;
  const rejected = outbox.length - waiting;
  return (
    <div className={`banner ${rejected ? "banner-bad" : "banner-warn"}`} role="status" data-testid="outbox">
      {waiting ? (
        <p>
          {waiting === 1 ? "1 outcome" : `${waiting} outcomes`} saved on this phone, waiting to be sent.
        </p>
      ) : null}
      {rejected ? (
        <p>
          {rejected === 1 ? "1 outcome was" : `${rejected} outcomes were`} refused by Velox: open Settings to see why.
        </p>
      ) : null}
    </div>
  );
}
