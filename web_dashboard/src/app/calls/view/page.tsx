"use client";

import { usePrefetchQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { CallDetail, conversationQuery } from "@/components/calls/call-detail";
import { callWebhooksQuery } from "@/components/calls/call-webhooks";
import { AppShell } from "@/components/shell/app-shell";
import { Alert } from "@/components/ui/card";

function Detail() {
  const conversationId = useSearchParams().get("id");
  if (!conversationId) {
    return (
      <Alert title="No call chosen">
        Open a call from the{" "}
        <Link href="/calls/" className="font-medium text-accent underline">
          list of calls
        </Link>
        .
      </Alert>
    );
  }
  return <CallDetail key={conversationId} conversationId={conversationId} />;
}

/** The call's reads do not depend on who is asking: they start beside `/v1/me`, not after it
 * (a role that may not read calls is told so by the shell, and the refusal is never shown). */
function StartReads() {
  const conversationId = useSearchParams().get("id");
  return conversationId ? <Prefetch conversationId={conversationId} /> : null;
}

function Prefetch({ conversationId }: { conversationId: string }) {
  usePrefetchQuery(conversationQuery(conversationId));
  usePrefetchQuery(callWebhooksQuery(conversationId));
  return null;
}

export default function CallPage() {
  return (
    <>
      <Suspense>
        <StartReads />
      </Suspense>
      <AppShell permission="calls:read">
        {() => (
          <Suspense>
            <Detail />
          </Suspense>
        )}
      </AppShell>
    </>
  );
}
