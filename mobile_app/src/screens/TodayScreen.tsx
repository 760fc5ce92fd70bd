import type { CallbackWithLead, Lead } from "../api";
import { OutboxBanner, OutcomeChip, SyncLine, TopBar } from "../components";
import { dueLabel, fromUnix, keyLabel, leadName, valueText, when } from "../format";
import type { ListsState } from "../lists";
import { usePullToRefresh } from "../pullToRefresh";
import type { Account, QueuedOutcome } from "../store";

export function TodayScreen(props: {
  account: Account;
  lists: ListsState;
  outbox: QueuedOutcome[];
  onOpenLead: (leadId: string) => void;
  onOpenSettings: () => void;
}): JSX.Element {
  const { lists, outbox, onOpenLead } = props;
  const pull = usePullToRefresh(lists.refresh);
  const now = new Date();
  const data = lists.lists;
  const open = data ? data.leads.filter((lead) => lead.status !== "finished") : [];
  // A finished lead with a call back waiting is listed with the call backs only.
  const done = data ? data.leads.filter((lead) => lead.status === "finished" && !lead.next_callback) : [];
  const queuedLeads = new Set(outbox.map((item) => item.leadId));

  return (
    <main className="screen">
      <TopBar
        title="Today"
        actions={
          <>
            <button
              type="button"
              className="icon-button"
              onClick={() => void lists.refresh()}
              disabled={lists.refreshing}
              aria-label="Refresh"
            >
              <svg viewBox="0 0 24 24" aria-hidden="true" className={lists.refreshing ? "spin" : ""}>
                <path d="M20 12a8 8 0 1 1-2.34-5.66M20 4v5h-5" />
              </svg>
            </button>
            <button type="button" className="icon-button" onClick={props.onOpenSettings} aria-label="Settings">
              <svg viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="12" cy="8" r="4" />
                <path d="M4 21c0-4 4-6 8-6s8 2 8 6" />
              </svg>
            </button>
          </>
        }
      />
      <div className="pull" style={{ height: `${Math.min(pull, 1.4) * 48}px` }} aria-hidden="true">
        {pull >= 1 ? "Release to refresh" : pull > 0 ? "Pull to refresh" : ""}
      </div>
      <SyncLine syncedAt={data?.syncedAt ?? null} offline={lists.offline} refreshing={lists.refreshing} />
      <OutboxBanner outbox={outbox} />
      {lists.problem && !data ? (
        <p className="banner banner-bad" role="alert">
          {lists.problem}
        </p>
      ) : null}
      {data ? (
        <>
          <section aria-labelledby="callbacks-heading">
            <h2 id="callbacks-heading">
              Call backs <span className="count">{data.callbacks.length}</span>
            </h2>
            {data.callbacks.length === 0 ? <p className="empty">No call backs waiting.</p> : null}
            <ul className="cards">
              {data.callbacks.map((callback) => (
                <CallbackCard key={callback.callback_id} callback={callback} now={now} onOpen={onOpenLead} />
              ))}
            </ul>
          </section>
          <section aria-labelledby="leads-heading">
            <h2 id="leads-heading">
              Your leads <span className="count">{open.length}</span>
            </h2>
            {open.length === 0 ? <p className="empty">No open leads. New ones appear here when they are given to you.</p> : null}
            <ul className="cards">
              {open.map((lead) => (
                <LeadCard key={lead.lead_id} lead={lead} queued={queuedLeads.has(lead.lead_id)} onOpen={onOpenLead} />
              ))}
            </ul>
          </section>
          {done.length ? (
            <section aria-labelledby="done-heading">
              <h2 id="done-heading">
                Done <span className="count">{done.length}</span>
              </h2>
              <ul className="cards">
                {done.map((lead) => (
                  <LeadCard key={lead.lead_id} lead={lead} queued={queuedLeads.has(lead.lead_id)} onOpen={onOpenLead} />
                ))}
              </ul>
            </section>
          ) : null}
        </>
      ) : lists.refreshing ? (
        <p className="empty">Loading your leads…</p>
      ) : null}
    </main>
  );
}

function CallbackCard(props: { callback: CallbackWithLead; now: Date; onOpen: (leadId: string) => void }): JSX.Element {
  const { callback, now } = props;
  const due = fromUnix(callback.due_at_unix_secs);
  const overdue = due.getTime() <= now.getTime();
  return (
    <li>
      <button type="button" className={`card lead-card ${overdue ? "card-due" : ""}`} onClick={() => props.onOpen(callback.lead.lead_id)}>
        <div className="card-row">
          <strong className="name">{leadName(callback.lead)}</strong>
          <span className={`chip ${overdue ? "chip-bad" : "chip-neutral"}`}>{dueLabel(due, now)}</span>
        </div>
        <div className="card-row muted">
          <span>{callback.lead.phone_number}</span>
          <span>{when(due, now)}</span>
        </div>
        {callback.note ? <p className="summary">{callback.note}</p> : null}
        <LastCallLines lead={callback.lead} />
      </button>
    </li>
  );
}

function LeadCard(props: { lead: Lead; queued: boolean; onOpen: (leadId: string) => void }): JSX.Element {
  const { lead } = props;
  const outcome = lead.last_report?.outcome ?? lead.last_call?.outcome ?? lead.last_outcome;
  return (
    <li>
      <button type="button" className="card lead-card" onClick={() => props.onOpen(lead.lead_id)}>
        <div className="card-row">
          <strong className="name">{leadName(lead)}</strong>
          <OutcomeChip outcome={outcome} />
        </div>
        <div className="card-row muted">
          <span>{lead.phone_number}</span>
          <span>{lead.campaign_name}</span>
        </div>
        <LastCallLines lead={lead} />
        {props.queued ? <p className="queued">Outcome waiting to be sent</p> : null}
      </button>
    </li>
  );
}

function LastCallLines({ lead }: { lead: Lead }): JSX.Element | null {
  const call = lead.last_call;
  if (!call) return <p className="muted small">Not called yet</p>;
  const data = Object.entries(call.data_collected).slice(0, 3);
  return (
    <>
      {call.summary ? <p className="summary">{call.summary}</p> : null}
      {data.length ? (
        <dl className="facts">
          {data.map(([key, value]) => (
            <div key={key}>
              <dt>{keyLabel(key)}</dt>
              <dd>{valueText(value)}</dd>
            </div>
          ))}
        </dl>
      ) : null}
    </>
  );
}
