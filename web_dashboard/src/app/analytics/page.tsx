"use client";

import { Suspense } from "react";

import { AnalyticsDashboard } from "@/components/analytics/analytics-dashboard";
import { AppShell } from "@/components/shell/app-shell";
import { may } from "@/lib/session";

export default function AnalyticsPage() {
  return (
    <AppShell permission="analytics:read">
      {(me) => (
        <Suspense>
          <AnalyticsDashboard campaigns={may(me, "campaigns:read")} />
        </Suspense>
      )}
    </AppShell>
  );
}
