"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert, Card } from "@/components/ui/card";
import { guessMapping, mappedFile, mappingProblems, previewLeads, readText } from "@/lib/leads-file";

import { LeadsStep, type LeadsDraft } from "./wizard/leads-step";
import { LeadsReport, uploadLeads } from "./wizard/upload-report";

/** More leads for a campaign that is not over: the same file, mapping and report as the wizard's. */
export function AddLeads({ campaignId }: { campaignId: string }) {
  const client = useQueryClient();
  const [leads, setLeads] = useState<LeadsDraft | null>(null);
  const upload = useMutation({
    mutationFn: (draft: LeadsDraft) => (draft.preview ? uploadLeads(campaignId, mappedFile(draft.text, draft.preview, draft.mapping)) : Promise.reject(new Error("Choose a leads file."))),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["campaigns"] }),
  });
  const problem = !leads?.preview ? "Choose a leads file." : mappingProblems(leads.mapping)[0];
  return (
    <Card className="mt-6 p-5">
      <h2 className="text-base font-semibold text-ink">Add leads</h2>
      <div className="mt-4">
        <LeadsStep
          leads={leads}
          onFile={(file) => {
            upload.reset();
            void readText(file).then((text) => {
              const preview = previewLeads(text);
              setLeads({ fileName: file.name, text, preview, mapping: preview ? guessMapping(preview.header) : [] });
            });
          }}
          onMapping={(mapping) => leads && setLeads({ ...leads, mapping })}
        />
      </div>
      <div className="mt-4 flex items-center gap-3">
        <Button busy={upload.isPending} disabled={Boolean(problem)} onClick={() => leads && upload.mutate(leads)}>
          Upload leads
        </Button>
        {problem && leads ? <p className="text-sm text-muted">{problem}</p> : null}
      </div>
      {upload.error ? (
        <Alert className="mt-4" title="The leads file was refused">
          {errorMessage(upload.error)}
        </Alert>
      ) : null}
      {upload.data ? (
        <div className="mt-5">
          <LeadsReport upload={upload.data} />
        </div>
      ) : null}
    </Card>
  );
}
