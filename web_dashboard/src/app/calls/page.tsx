"use client";

import { usePrefetchInfiniteQuery, usePrefetchQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { CallList } from "@/components/calls/call-list";
import { AGENT_NAMES_QUERY, callsQuery } from "@/components/calls/call-list-queries";
import { AppShell } from "@/components/shell/app-shell";
import { apiQuery, filtersFromUrl } from "@/lib/call-filters";

/** The list's reads (the calls the URL's filters ask for, the agents' names) do not depend on
 * who is asking: they start beside `/v1/me`, not after it. */
function StartReads() {
  const params = useSearchParams();
  usePrefetchInfiniteQuery(callsQuery(apiQuery(filtersFromUrl(new URLSearchParams(params.toString())))));
  usePrefetchQuery(AGENT_NAMES_QUERY);
  return null;
}

export default function CallsPage() {
  return (
    <>
      <Suspense>
        <StartReads />
      </Suspense>
      <AppShell permission="calls:read">
        {() => (
          <Suspense>
            <CallList />
          </Suspense>
        )}
      </AppShell>
    </>
  );
}
