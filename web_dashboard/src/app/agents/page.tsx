"use client";

import { usePrefetchInfiniteQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { AgentList, agentsQuery } from "@/components/agents/agent-list";
import { AppShell } from "@/components/shell/app-shell";
import { may } from "@/lib/session";

/** The list (the URL's search) does not depend on who is asking: it starts beside `/v1/me`. */
function StartReads() {
  usePrefetchInfiniteQuery(agentsQuery((useSearchParams().get("search") ?? "").trim()));
  return null;
}

export default function AgentsPage() {
  return (
    <>
      <Suspense>
        <StartReads />
      </Suspense>
      <AppShell permission="agents:read">
        {(me) => (
          <Suspense>
            <AgentList canWrite={may(me, "agents:write")} />
          </Suspense>
        )}
      </AppShell>
    </>
  );
}
