"use client";

import { CampaignList } from "@/components/campaigns/campaign-list";
import { AppShell } from "@/components/shell/app-shell";
import { may } from "@/lib/session";

export default function CampaignsPage() {
  return <AppShell permission="campaigns:read">{(me) => <CampaignList canWrite={may(me, "campaigns:write")} />}</AppShell>;
}
