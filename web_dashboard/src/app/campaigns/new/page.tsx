"use client";

import { CampaignWizard } from "@/components/campaigns/wizard/campaign-wizard";
import { AppShell } from "@/components/shell/app-shell";

export default function NewCampaignPage() {
  return <AppShell permission="campaigns:write">{() => <CampaignWizard />}</AppShell>;
}
