"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Card } from "@/components/ui/card";

type Upload = Schemas["LeadsUploadResponse"];

/** Sends a leads file (the CSV itself as the body); the API's report of what it kept. */
export function uploadLeads(campaignId: string, csv: string): Promise<Upload> {
  return unwrap(
    api.POST("/v1/campaigns/{campaign_id}/leads", {
      params: { path: { campaign_id: campaignId } },
      body: csv,
      bodySerializer: (body: string) => body,
      headers: { "Content-Type": "text/csv" },
    }),
  );
}

/** What the API made of the leads file, each bad row with its row number and reason. */
export function LeadsReport({ upload }: { upload: Upload }) {
  const figures: [string, number][] = [
    ["Imported", upload.imported],
    ["Rejected", upload.rejected],
    ["Already in the campaign", upload.duplicates_skipped],
    ["Over the campaign's limit", upload.over_cap ?? 0],
  ];
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        {figures.map(([label, value]) => (
          <div key={label} className="rounded-md border border-line px-4 py-3">
            <dt className="text-xs text-muted">{label}</dt>
            <dd className="mt-1 text-xl font-semibold tabular-nums text-ink">{value.toLocaleString()}</dd>
          </div>
        ))}
      </dl>
      {(upload.over_cap ?? 0) > 0 ? (
        <Alert tone="info" title="Some leads were not imported">
          A campaign holds at most {upload.max_leads.toLocaleString()} leads; start another campaign for the rest.
        </Alert>
      ) : null}
      {upload.rejected_rows.length > 0 ? (
        <div>
          <h3 className="text-sm font-semibold text-ink">Rows not imported</h3>
          <p className="mt-0.5 text-xs text-muted">
            Row numbers as a spreadsheet shows them (the header is row 1). Fix these rows and upload them again in a file of their own.
            {upload.rejected > upload.rejected_rows.length ? ` The first ${upload.rejected_rows.length} of ${upload.rejected} are listed.` : ""}
          </p>
          <div className="mt-2 max-h-96 overflow-auto rounded-md border border-line">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Rows not imported, with the reason</caption>
              <thead className="sticky top-0 bg-subtle text-xs text-muted">
                <tr>
                  <th scope="col" className="w-20 px-3 py-2 font-medium">Row</th>
                  <th scope="col" className="px-3 py-2 font-medium">Reason</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-line">
                {upload.rejected_rows.map((row) => (
                  <tr key={`${row.line}-${row.reason}`}>
                    <td className="px-3 py-2 tabular-nums text-ink">{row.line}</td>
                    <td className="px-3 py-2 text-danger">{row.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}
    </div>
  );
}

/** The wizard's end: the campaign made (a draft), its leads report, and Start. */
export function UploadReport({ campaign, upload, uploadError }: { campaign: Schemas["CampaignResponse"]; upload: Upload | null; uploadError: string | null }) {
  const router = useRouter();
  const href = `/campaigns/view/?id=${encodeURIComponent(campaign.campaign_id)}`;
  const start = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/campaigns/{campaign_id}/start", { params: { path: { campaign_id: campaign.campaign_id } } })),
    onSuccess: () => router.push(href),
  });
  return (
    <>
      <PageHeader title={`${campaign.name} is ready`} description="Created as a draft: nobody is called until you start it." />
      <Card className="space-y-5 p-6">
        {uploadError ? (
          <Alert title="The leads file was refused">
            {uploadError} The campaign was created without leads; upload a corrected file from its page.
          </Alert>
        ) : upload ? (
          <LeadsReport upload={upload} />
        ) : null}
        {start.error ? <Alert title="The campaign did not start">{errorMessage(start.error)}</Alert> : null}
        <div className="flex flex-wrap gap-3 border-t border-line pt-5">
          <Button busy={start.isPending} disabled={!upload || upload.imported === 0} onClick={() => start.mutate()}>
            Start campaign
          </Button>
          <Button variant="secondary" asChild>
            <Link href={href}>Open campaign</Link>
          </Button>
        </div>
      </Card>
    </>
  );
}
