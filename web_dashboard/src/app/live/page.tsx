"use client";

import { LiveBoard } from "@/components/live/live-board";
import { AppShell } from "@/components/shell/app-shell";
import { may } from "@/lib/session";

export default function LivePage() {
  return <AppShell permission="calls:read">{(me) => <LiveBoard canEnd={may(me, "calls:end")} canReadAgents={may(me, "agents:read")} />}</AppShell>;
}
