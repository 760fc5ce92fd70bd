import { useState, type FormEvent } from "react";
import { ApiError, NetworkError, type ApiClient, type FieldOutcome, type Lead } from "../api";
import { OutcomeChip, SyncLine, TopBar } from "../components";
import {
  FIELD_OUTCOMES,
  duration,
  fromUnix,
  keyLabel,
  leadName,
  localInputToUnix,
  outcomeLabel,
  unixToLocalInput,
  valueText,
  when,
} from "../format";
import type { ListsState } from "../lists";
import type { OutcomeQueue } from "../outbox";
import type { QueuedOutcome } from "../store";

/** Why Velox would not call the lead (`409`'s `detail.status`), in words. */
const REFUSALS: Record<string, string> = {
  do_not_call: "This number is on the do-not-call list: Velox will not call it.",
  outside_calling_hours: "It is outside this lead's calling hours.",
  lead_busy: "A call to this lead is already in progress.",
  campaign_cancelled: "This lead's campaign was cancelled.",
};

type CallState = { state: "idle" } | { state: "calling" } | { state: "placed"; text: string } | { state: "refused"; text: string };

export function LeadScreen(props: {
  api: ApiClient;
  queue: OutcomeQueue;
  outbox: QueuedOutcome[];
  lead: Lead | null;
  leadId: string;
  lists: ListsState;
  onBack: () => void;
  onTalk: () => void;
}): JSX.Element {
  const { lead, lists } = props;
  const [call, setCall] = useState<CallState>({ state: "idle" });

  if (!lead) {
    return (
      <main className="screen">
        <TopBar title="Lead" onBack={props.onBack} />
        <p className="empty">
          {lists.lists === null && lists.refreshing ? "Loading…" : "This lead is not among your leads (it may have been given to someone else)."}
        </p>
      </main>
    );
  }

  async function callWithAi(target: Lead): Promise<void> {
    setCall({ state: "calling" });
    try {
      const placed = await props.api.callLead(target.lead_id);
      setCall(
        placed.success
          ? { state: "placed", text: `Velox is calling ${leadName(target)} now. The outcome appears here after the call.` }
          : { state: "refused", text: `The call could not be placed: ${placed.message}` },
      );
    } catch (error) {
      if (error instanceof ApiError && error.httpStatus === 409) {
        // Velox's own words say when calling hours open; the others say no more than ours.
        const words = REFUSALS[error.code];
        const text =
          words && error.code === "outside_calling_hours"
            ? `${words} ${capitalised(error.message)}.`
            : (words ?? capitalised(error.message));
        setCall({ state: "refused", text });
      } else if (error instanceof NetworkError) {
        setCall({ state: "refused", text: "No connection: Velox could not be asked to call. Try again, or call yourself." });
      } else {
        setCall({ state: "refused", text: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  const last = lead.last_call;
  const report = lead.last_report;
  const queued = props.outbox.filter((item) => item.leadId === lead.lead_id);
  const variables = Object.entries(lead.variables);

  return (
    <main className="screen">
      <TopBar title={leadName(lead)} onBack={props.onBack} />
      <SyncLine syncedAt={lists.lists?.syncedAt ?? null} offline={lists.offline} refreshing={lists.refreshing} />
      <section className="card">
        <div className="card-row">
          <a className="phone" href={`tel:${lead.phone_number}`}>
            {lead.phone_number}
          </a>
          <OutcomeChip outcome={report?.outcome ?? last?.outcome ?? lead.last_outcome} />
        </div>
        <p className="muted">
          {lead.campaign_name}
          {lead.time_zone ? ` · ${lead.time_zone}` : ""} · {lead.attempts_made === 1 ? "1 attempt" : `${lead.attempts_made} attempts`}
        </p>
        {lead.next_callback ? (
          <p className="callback-line">Call back {when(fromUnix(lead.next_callback.due_at_unix_secs))}</p>
        ) : null}
        <div className="actions">
          <button
            type="button"
            className="button primary"
            disabled={call.state === "calling" || lists.offline}
            onClick={() => void callWithAi(lead)}
          >
            {call.state === "calling" ? "Asking Velox…" : "Call with AI"}
          </button>
          <a className="button" href={`tel:${lead.phone_number}`}>
            Call myself
          </a>
          <button type="button" className="button talk-start" disabled={lists.offline} onClick={props.onTalk}>
            Talk to an AI agent about this lead
          </button>
        </div>
        {call.state === "placed" || call.state === "refused" ? (
          <p className={`banner ${call.state === "placed" ? "banner-good" : "banner-bad"}`} role="alert">
            {call.text}
          </p>
        ) : null}
      </section>

      <section className="card">
        <h2>Last call</h2>
        {last ? (
          <>
            <div className="card-row">
              <strong>{last.title || `Attempt ${last.attempt_number}`}</strong>
              <OutcomeChip outcome={last.outcome} />
            </div>
            <p className="muted small">
              {last.start_time_unix_secs ? when(fromUnix(last.start_time_unix_secs)) : ""}
              {last.duration_secs !== null ? ` · ${duration(last.duration_secs)}` : ""}
            </p>
            {last.summary ? <p>{last.summary}</p> : <p className="muted">No summary yet.</p>}
            <Facts title="Collected" entries={Object.entries(last.data_collected)} />
            {last.call_back_at_unix_secs ? (
              <p className="callback-line">Asked to be called back {when(fromUnix(last.call_back_at_unix_secs))}</p>
            ) : null}
          </>
        ) : (
          <p className="muted">Not called yet.</p>
        )}
      </section>

      {report ? (
        <section className="card">
          <h2>Your last report</h2>
          <div className="card-row">
            <OutcomeChip outcome={report.outcome} />
            <span className="muted small">{when(fromUnix(report.recorded_at_unix_secs))}</span>
          </div>
          {report.note ? <p>{report.note}</p> : null}
        </section>
      ) : null}

      <OutcomeForm key={lead.lead_id} lead={lead} queue={props.queue} queued={queued} />

      {variables.length ? (
        <section className="card">
          <h2>Details</h2>
          <Facts title="" entries={variables} />
        </section>
      ) : null}
    </main>
  );
}

function capitalised(text: string): string {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

function Facts({ title, entries }: { title: string; entries: [string, unknown][] }): JSX.Element | null {
  if (!entries.length) return null;
  return (
    <>
      {title ? <h3>{title}</h3> : null}
      <dl className="facts facts-full">
        {entries.map(([key, value]) => (
          <div key={key}>
            <dt>{keyLabel(key)}</dt>
            <dd>{valueText(value)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

function OutcomeForm(props: { lead: Lead; queue: OutcomeQueue; queued: QueuedOutcome[] }): JSX.Element {
  const { lead, queue, queued } = props;
  const [outcome, setOutcome] = useState<FieldOutcome | "">("");
  const [note, setNote] = useState("");
  const [callBackAt, setCallBackAt] = useState(() => unixToLocalInput(new Date(Date.now() + 24 * 3600 * 1000)));
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setProblem(null);
    setMessage(null);
    if (!outcome) return;
    const at = outcome === "call_back" ? localInputToUnix(callBackAt) : null;
    if (outcome === "call_back" && (at === null || at * 1000 <= Date.now())) {
      setProblem("Choose a call-back time in the future.");
      return;
    }
    await queue.enqueue(lead.lead_id, leadName(lead), { outcome, note: note.trim(), call_back_at_unix: at });
    setOutcome("");
    setNote("");
    const result = await queue.flush();
    setMessage(
      result.waiting > 0
        ? "Saved on this phone. It will be sent when you are back online."
        : result.rejected > 0
          ? null
          : "Outcome saved.",
    );
  }

  return (
    <form className="card form" onSubmit={(event) => void submit(event)} aria-labelledby="outcome-heading">
      <h2 id="outcome-heading">After the call</h2>
      <label>
        Outcome
        <select required value={outcome} onChange={(event) => setOutcome(event.target.value as FieldOutcome | "")}>
          <option value="">Choose…</option>
          {FIELD_OUTCOMES.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </label>
      {outcome === "call_back" ? (
        <label>
          Next call back
          <input type="datetime-local" required value={callBackAt} onChange={(event) => setCallBackAt(event.target.value)} />
        </label>
      ) : null}
      <label>
        Note
        <textarea rows={3} maxLength={4000} value={note} onChange={(event) => setNote(event.target.value)} />
      </label>
      {problem ? (
        <p className="banner banner-bad" role="alert">
          {problem}
        </p>
      ) : null}
      {message ? (
        <p className="banner banner-good" role="status">
          {message}
        </p>
      ) : null}
      {queued.length ? (
        <ul className="queue" aria-label="Outcomes not sent yet" data-testid="lead-queue">
          {queued.map((item) => (
            <li key={item.key} className={item.state === "rejected" ? "rejected" : ""}>
              <strong>{outcomeLabel(item.body.outcome)}</strong>{" "}
              {item.state === "waiting" ? "— waiting to be sent" : `— refused: ${item.lastError ?? ""}`}
              {item.tries > 0 && item.state === "waiting" ? ` (tried ${item.tries}×)` : ""}
            </li>
          ))}
        </ul>
      ) : null}
      <button type="submit" className="button primary" disabled={!outcome}>
        Save outcome
      </button>
    </form>
  );
}
