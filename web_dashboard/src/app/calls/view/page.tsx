"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { CallDetail } from "@/components/calls/call-detail";
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

export default function CallPage() {
  return (
    <AppShell permission="calls:read">
      {() => (
        <Suspense>
          <Detail />
        </Suspense>
      )}
    </AppShell>
  );
}
