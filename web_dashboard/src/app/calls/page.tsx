"use client";

import { Suspense } from "react";

import { CallList } from "@/components/calls/call-list";
import { AppShell } from "@/components/shell/app-shell";

export default function CallsPage() {
  return (
    <AppShell permission="calls:read">
      {() => (
        <Suspense>
          <CallList />
        </Suspense>
      )}
    </AppShell>
  );
}
