"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { AgentEditor } from "@/components/agents/editor/agent-editor";
import { AppShell } from "@/components/shell/app-shell";
import { Alert } from "@/components/ui/card";
import { may } from "@/lib/session";

function Editor({ canWrite }: { canWrite: boolean }) {
  const agentId = useSearchParams().get("id");
  if (!agentId) {
    return (
      <Alert title="No agent chosen">
        Open an agent from the{" "}
        <Link href="/agents/" className="font-medium text-accent underline">
          list of agents
        </Link>
        .
      </Alert>
    );
  }
  return <AgentEditor key={agentId} agentId={agentId} canWrite={canWrite} />;
}

export default function AgentEditorPage() {
  return (
    <AppShell permission="agents:read">
      {(me) => (
        <Suspense>
          <Editor canWrite={may(me, "agents:write")} />
        </Suspense>
      )}
    </AppShell>
  );
}
