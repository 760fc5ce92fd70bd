import { useState, type FormEvent } from "react";
import { ApiError, NetworkError } from "../api";
import { signIn } from "../session";
import type { Account, FieldDatabase } from "../store";

export function SignInScreen(props: {
  db: FieldDatabase;
  notice: string | null;
  onSignedIn: (account: Account) => void;
}): JSX.Element {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      props.onSignedIn(await signIn(props.db, email, password));
    } catch (error) {
      if (error instanceof NetworkError) setProblem("No connection. Signing in needs the network.");
      else if (error instanceof ApiError && error.httpStatus === 401) setProblem("Wrong email or password.");
      else if (error instanceof ApiError && error.httpStatus === 429)
        setProblem("Too many wrong passwords: the account is locked for 15 minutes.");
      else setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="screen sign-in">
      <div className="brand">
        <img src="/m/icons/icon-192.png" alt="" width="64" height="64" />
        <div>
          <h1>Velox Field</h1>
          <p className="muted">Your leads and call backs, on the go.</p>
        </div>
      </div>
      <form className="card form" onSubmit={(event) => void submit(event)}>
        {props.notice ? <p className="banner banner-warn">{props.notice}</p> : null}
        <label>
          Email
          <input
            type="email"
            autoComplete="username"
            inputMode="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {problem ? (
          <p className="banner banner-bad" role="alert">
            {problem}
          </p>
        ) : null}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="muted small center">Your administrator sends you an invite link to set your password.</p>
    </main>
  );
}
