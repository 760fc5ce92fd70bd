"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { CampaignDetail } from "@/components/campaigns/campaign-detail";
import { AppShell } from "@/components/shell/app-shell";
import { Alert } from "@/components/ui/card";
import { may, type Me } from "@/lib/session";

function Detail({ me }: { me: Me }) {
  const campaignId = useSearchParams().get("id");
  if (!campaignId) {
    return (
      <Alert title="No campaign chosen">
        Open one from the{" "}
        <Link href="/campaigns/" className="font-medium text-accent underline">
          list of campaigns
        </Link>
        .
      </Alert>
    );
  }
  return <CampaignDetail key={campaignId} campaignId={campaignId} canWrite={may(me, "campaigns:write")} />;
}

export default function CampaignPage() {
  return (
    <AppShell permission="campaigns:read">
      {(me) => (
        <Suspense>
          <Detail me={me} />
        </Suspense>
      )}
    </AppShell>
  );
}
