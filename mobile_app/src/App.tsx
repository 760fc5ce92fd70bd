import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiClient, ApiError } from "./api";
import { findLead, useLists } from "./lists";
import { OutcomeQueue } from "./outbox";
import { pathOf, routeOf, type Route } from "./routes";
import { LeadScreen } from "./screens/LeadScreen";
import { SettingsScreen } from "./screens/SettingsScreen";
import { SignInScreen } from "./screens/SignInScreen";
import { TalkScreen } from "./screens/TalkScreen";
import { TodayScreen } from "./screens/TodayScreen";
import { signOut } from "./session";
import { forgetEverything, loadAccount, openFieldDatabase, type Account, type FieldDatabase } from "./store";
import type { QueuedOutcome } from "./store";

type Boot = { state: "loading" } | { state: "failed"; message: string } | { state: "ready"; db: FieldDatabase };

export function App(): JSX.Element {
  const [boot, setBoot] = useState<Boot>({ state: "loading" });
  const [account, setAccount] = useState<Account | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    openFieldDatabase()
      .then(async (db) => {
        setAccount(await loadAccount(db));
        setBoot({ state: "ready", db });
      })
      .catch((error: unknown) =>
        setBoot({ state: "failed", message: `This browser would not open the app's storage: ${String(error)}` }),
      );
  }, []);

  if (boot.state === "loading") return <div className="splash" aria-busy="true" />;
  if (boot.state === "failed")
    return (
      <main className="screen">
        <p className="banner banner-bad">{boot.message}</p>
      </main>
    );
  if (!account)
    return (
      <SignInScreen
        db={boot.db}
        notice={notice}
        onSignedIn={(signed) => {
          setNotice(null);
          setAccount(signed);
        }}
      />
    );
  return (
    <SignedIn
      key={account.token}
      db={boot.db}
      account={account}
      onSignedOut={(why) => {
        setNotice(why);
        setAccount(null);
      }}
    />
  );
}

function SignedIn(props: { db: FieldDatabase; account: Account; onSignedOut: (why: string | null) => void }): JSX.Element {
  const { db, account, onSignedOut } = props;
  const api = useMemo(() => new ApiClient(() => account.token), [account.token]);
  const queue = useMemo(() => new OutcomeQueue(db, api), [db, api]);
  const [route, setRoute] = useState<Route>(() => routeOf(window.location));
  const [outbox, setOutbox] = useState<QueuedOutcome[]>([]);

  const expired = useCallback(() => {
    void forgetEverything(db).then(() => onSignedOut("Your session ended. Sign in again."));
  }, [db, onSignedOut]);
  const lists = useLists(api, expired);

  const navigate = useCallback((next: Route, replace = false) => {
    const path = pathOf(next);
    if (replace) window.history.replaceState(null, "", path);
    else window.history.pushState(null, "", path);
    setRoute(next);
    window.scrollTo(0, 0);
  }, []);

  useEffect(() => {
    // A notification's /m/?lead=<id> becomes the lead's own address.
    if (route.screen === "lead" && window.location.search) navigate(route, true);
    const back = (): void => setRoute(routeOf(window.location));
    window.addEventListener("popstate", back);
    return () => window.removeEventListener("popstate", back);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const unsubscribe = queue.subscribe(setOutbox);
    const replay = (): void => {
      void queue.flush().then((result) => {
        if (result.sent > 0) void lists.refresh();
      });
    };
    replay(); // at start: whatever was left from last time
    window.addEventListener("online", replay);
    return () => {
      unsubscribe();
      window.removeEventListener("online", replay);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queue]);

  useEffect(() => {
    // Who is this token? A 401 means the session ended elsewhere; offline, carry on.
    api.me().catch((error: unknown) => {
      if (error instanceof ApiError && error.httpStatus === 401) expired();
    });
  }, [api, expired]);

  const leaveApp = useCallback(async () => {
    await signOut(db, api);
    window.history.replaceState(null, "", "/m/");
    onSignedOut(null);
  }, [db, api, onSignedOut]);

  switch (route.screen) {
    case "lead":
      return (
        <LeadScreen
          api={api}
          queue={queue}
          outbox={outbox}
          lead={findLead(lists.lists, route.leadId)}
          leadId={route.leadId}
          lists={lists}
          onBack={() => navigate({ screen: "today" })}
          onTalk={() => navigate({ screen: "talk", leadId: route.leadId })}
        />
      );
    case "talk":
      return (
        <TalkScreen
          api={api}
          lead={findLead(lists.lists, route.leadId)}
          leadId={route.leadId}
          onBack={() => navigate({ screen: "lead", leadId: route.leadId })}
        />
      );
    case "settings":
      return (
        <SettingsScreen
          api={api}
          account={account}
          queue={queue}
          outbox={outbox}
          onBack={() => navigate({ screen: "today" })}
          onSignOut={leaveApp}
        />
      );
    case "today":
      return (
        <TodayScreen
          account={account}
          lists={lists}
          outbox={outbox}
          onOpenLead={(leadId) => navigate({ screen: "lead", leadId })}
          onOpenSettings={() => navigate({ screen: "settings" })}
        />
      );
  }
}
