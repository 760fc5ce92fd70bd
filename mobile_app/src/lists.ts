/** Today's lists: call backs and leads, fetched together, kept while offline. */

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, NetworkError, type ApiClient, type CallbackWithLead, type Lead } from "./api";

export interface Lists {
  callbacks: CallbackWithLead[];
  leads: Lead[];
  /** The server's time for the older of the two answers: when the lists were last synced. */
  syncedAt: Date | null;
}

export interface ListsState {
  lists: Lists | null;
  refreshing: boolean;
  /** Why the last refresh failed, in words; null when it worked. */
  problem: string | null;
  offline: boolean;
  refresh: () => Promise<void>;
}

export function useLists(api: ApiClient, onSignedOut: () => void): ListsState {
  const [lists, setLists] = useState<Lists | null>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [offline, setOffline] = useState(!navigator.onLine);
  const running = useRef<Promise<void> | null>(null);

  const refresh = useCallback((): Promise<void> => {
    if (running.current) return running.current;
    const work = (async () => {
      setRefreshing(true);
      try {
        const [callbacks, leads] = await Promise.all([api.callbacks(), api.leads()]);
        const times = [callbacks.syncedAt, leads.syncedAt].filter((d): d is Date => d !== null);
        const syncedAt = times.length ? new Date(Math.min(...times.map((d) => d.getTime()))) : null;
        setLists({ callbacks: callbacks.value.callbacks, leads: leads.value.leads, syncedAt });
        setProblem(null);
        setOffline(!navigator.onLine);
      } catch (error) {
        if (error instanceof ApiError && error.httpStatus === 401) {
          onSignedOut();
          return;
        }
        if (error instanceof NetworkError) {
          setOffline(true);
          setProblem("No connection, and nothing saved on this phone yet.");
        } else {
          setProblem(error instanceof Error ? error.message : String(error));
        }
      } finally {
        setRefreshing(false);
        running.current = null;
      }
    })();
    running.current = work;
    return work;
  }, [api, onSignedOut]);

  useEffect(() => {
    void refresh();
    const online = (): void => {
      setOffline(false);
      void refresh();
    };
    const gone = (): void => setOffline(true);
    window.addEventListener("online", online);
    window.addEventListener("offline", gone);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", gone);
    };
  }, [refresh]);

  return { lists, refreshing, problem, offline, refresh };
}

/** A lead from today's lists (a call back's lead is the same lead). */
export function findLead(lists: Lists | null, leadId: string): Lead | null {
  if (!lists) return null;
  return (
    lists.leads.find((lead) => lead.lead_id === leadId) ??
    lists.callbacks.find((callback) => callback.lead.lead_id === leadId)?.lead ??
    null
  );
}
