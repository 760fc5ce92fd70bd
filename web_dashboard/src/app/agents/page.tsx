"use client";

import { Suspense } from "react";

import { AgentList } from "@/components/agents/agent-list";
import { AppShell } from "@/components/shell/app-shell";
import { may } from "@/lib/session";

export default function AgentsPage() {
  return (
    <AppShell permission="agents:read">
      {(me) => (
        <Suspense>
          <AgentList canWrite={may(me, "agents:write")} />
        </Suspense>
      )}
    </AppShell>
  );
}
