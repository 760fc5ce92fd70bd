import { useEffect, useState } from "react";
import type { ApiClient } from "../api";
import { TopBar } from "../components";
import { outcomeLabel, when } from "../format";
import type { OutcomeQueue } from "../outbox";
import { currentSubscription, disablePush, enablePush, pushSupported } from "../push";
import type { Account, QueuedOutcome } from "../store";

export function SettingsScreen(props: {
  api: ApiClient;
  account: Account;
  queue: OutcomeQueue;
  outbox: QueuedOutcome[];
  onBack: () => void;
  onSignOut: () => Promise<void>;
}): JSX.Element {
  const { api, queue, outbox } = props;
  const [pushOn, setPushOn] = useState<boolean | null>(null);
  const [pushBusy, setPushBusy] = useState(false);
  const [pushProblem, setPushProblem] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    void currentSubscription().then((subscription) => setPushOn(subscription !== null));
  }, []);

  async function togglePush(on: boolean): Promise<void> {
    setPushBusy(true);
    setPushProblem(null);
    try {
      if (on) await enablePush(api);
      else await disablePush(api);
      setPushOn(on);
    } catch (error) {
      setPushProblem(error instanceof Error ? error.message : String(error));
      setPushOn((await currentSubscription()) !== null);
    } finally {
      setPushBusy(false);
    }
  }

  async function signOut(): Promise<void> {
    const waiting = outbox.filter((item) => item.state === "waiting").length;
    if (
      waiting > 0 &&
      !window.confirm(`${waiting} outcome(s) have not been sent yet and will be lost if you sign out. Sign out anyway?`)
    )
      return;
    setLeaving(true);
    await props.onSignOut();
  }

  return (
    <main className="screen">
      <TopBar title="Settings" onBack={props.onBack} />
      <section className="card">
        <h2>Account</h2>
        <p>{props.account.email}</p>
        <p className="muted small">Field agent · signed in until {when(new Date(props.account.expiresAtUnixSecs * 1000))}</p>
      </section>

      <section className="card">
        <h2>Notifications</h2>
        {pushSupported() ? (
          <label className="switch">
            <input
              type="checkbox"
              role="switch"
              checked={pushOn === true}
              disabled={pushBusy || pushOn === null}
              onChange={(event) => void togglePush(event.target.checked)}
            />
            <span>Tell me when a call back falls due</span>
          </label>
        ) : (
          <p className="muted">This browser cannot receive notifications. Install the app to your home screen and try again.</p>
        )}
        {pushProblem ? (
          <p className="banner banner-bad" role="alert">
            {pushProblem}
          </p>
        ) : null}
      </section>

      <section className="card">
        <h2>Outcomes not sent yet</h2>
        {outbox.length === 0 ? <p className="muted">Everything you recorded has reached Velox.</p> : null}
        <ul className="queue" data-testid="outbox-list">
          {outbox.map((item) => (
            <li key={item.key} className={item.state === "rejected" ? "rejected" : ""}>
              <div>
                <strong>{item.leadName}</strong>: {outcomeLabel(item.body.outcome)}
                <div className="muted small">
                  recorded {when(new Date(item.queuedAtMs))}
                  {item.state === "rejected" ? ` · refused: ${item.lastError ?? ""}` : item.lastError ? ` · ${item.lastError}` : ""}
                </div>
              </div>
              {item.state === "rejected" ? (
                <button type="button" className="button small" onClick={() => void queue.discard(item.key)}>
                  Discard
                </button>
              ) : null}
            </li>
          ))}
        </ul>
        {outbox.some((item) => item.state === "waiting") ? (
          <button
            type="button"
            className="button"
            disabled={sending}
            onClick={() => {
              setSending(true);
              void queue.flush().finally(() => setSending(false));
            }}
          >
            {sending ? "Sending…" : "Send now"}
          </button>
        ) : null}
      </section>

      <button type="button" className="button danger" disabled={leaving} onClick={() => void signOut()}>
        {leaving ? "Signing out…" : "Sign out"}
      </button>
      <p className="muted small center">Signing out removes your token, saved lists and queued outcomes from this phone.</p>
    </main>
  );
}
