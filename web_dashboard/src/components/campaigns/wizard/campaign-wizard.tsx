"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { ApiError, errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Card } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";
import { cn } from "@/lib/cn";
import { defaultSettings, settingsBody, stepOfField, type SettingsDraft } from "@/lib/campaign-settings";
import { guessMapping, mappedFile, mappingProblems, previewLeads, readText } from "@/lib/leads-file";

import { usePhoneNumbers } from "../campaign-parts";
import { DialingStep } from "./dialing-step";
import { LeadsStep, type LeadsDraft } from "./leads-step";
import { ScheduleStep } from "./schedule-step";
import { UploadReport, uploadLeads } from "./upload-report";

/** The API's validation messages by field path (`settings.calls_per_minute`). */
export type FieldErrors = Record<string, string>;
type Step = "basics" | "leads" | "schedule" | "dialing";
const STEPS: [Step, string][] = [
  ["basics", "Agent and number"],
  ["leads", "Leads"],
  ["schedule", "Calling hours and schedule"],
  ["dialing", "Pacing, retries, voicemail"],
];

interface Created {
  campaign: Schemas["CampaignResponse"];
  upload: Schemas["LeadsUploadResponse"] | null;
  uploadError: string | null;
}

/** A new campaign, step by step; created as a draft with its leads, then started from its page or here. */
export function CampaignWizard() {
  const [step, setStep] = useState<Step>("basics");
  const [name, setName] = useState("");
  const [agentId, setAgentId] = useState("");
  const [numberId, setNumberId] = useState("");
  const [leads, setLeads] = useState<LeadsDraft | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [settings, setSettings] = useState<SettingsDraft>(defaultSettings);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [created, setCreated] = useState<Created | null>(null);
  const client = useQueryClient();

  const agents = useQuery({
    queryKey: ["agents", "names"],
    queryFn: () => unwrap(api.GET("/v1/convai/agents", { params: { query: { page_size: 100 } } })),
  });
  const numbers = usePhoneNumbers();
  const twilioNumbers = (numbers.data ?? []).filter((number) => number.provider === "twilio");

  const create = useMutation({
    mutationFn: async (): Promise<Created> => {
      const campaign = await unwrap(
        api.POST("/v1/campaigns", { body: { name: name.trim(), agent_id: agentId, agent_phone_number_id: numberId, settings: settingsBody(settings) as never } }),
      );
      if (!leads?.preview) return { campaign, upload: null, uploadError: null };
      try {
        const upload = await uploadLeads(campaign.campaign_id, mappedFile(leads.text, leads.preview, leads.mapping));
        return { campaign, upload, uploadError: null };
      } catch (error) {
        return { campaign, upload: null, uploadError: errorMessage(error) };
      }
    },
    onSuccess: (result) => {
      setCreated(result);
      void client.invalidateQueries({ queryKey: ["campaigns"] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.fieldErrors.length > 0) {
        const byField = Object.fromEntries(error.fieldErrors.map((field) => [field.path, field.message]));
        setErrors(byField);
        const first = error.fieldErrors[0];
        if (first) setStep(stepOfField(first.path));
      }
    },
  });

  const readFile = async (file: File) => {
    setFileError(null);
    const text = await readText(file);
    const preview = previewLeads(text);
    setLeads({ fileName: file.name, text, preview, mapping: preview ? guessMapping(preview.header) : [] });
  };

  if (created) return <UploadReport campaign={created.campaign} upload={created.upload} uploadError={created.uploadError} />;

  const basicsMissing = !name.trim() || !agentId || !numberId;
  const leadsProblem = !leads?.preview
    ? "Choose a leads file (step 2)."
    : mappingProblems(leads.mapping).length > 0
      ? "The leads file's columns need attention (step 2)."
      : null;
  const index = STEPS.findIndex(([key]) => key === step);
  const stepsWithErrors = new Set(Object.keys(errors).map(stepOfField));
  return (
    <>
      <PageHeader title="New campaign" description="An agent calls every lead of your file from one of your numbers, in the lead’s own calling hours." />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[15rem_minmax(0,1fr)]">
        <nav aria-label="Steps" className="min-w-0">
          <ol className="flex flex-wrap gap-2 lg:flex-col">
            {STEPS.map(([key, label], position) => (
              <li key={key}>
                <button
                  type="button"
                  onClick={() => setStep(key)}
                  aria-current={key === step ? "step" : undefined}
                  className={cn(
                    "flex w-full items-center gap-3 whitespace-nowrap rounded-md px-3 py-2 text-left text-sm",
                    key === step ? "bg-subtle font-medium text-ink" : "text-muted hover:bg-subtle hover:text-ink",
                  )}
                >
                  <span aria-hidden="true" className={cn("flex h-6 w-6 shrink-0 items-center justify-center rounded-full border text-xs", stepsWithErrors.has(key as never) ? "border-danger text-danger" : "border-line")}>
                    {position + 1}
                  </span>
                  {label}
                  {stepsWithErrors.has(key as never) ? <span className="sr-only"> (needs attention)</span> : null}
                </button>
              </li>
            ))}
          </ol>
        </nav>
        <Card className="min-w-0 p-6">
          <h2 className="mb-5 text-lg font-semibold text-ink">{STEPS[index]?.[1]}</h2>
          {step === "basics" ? (
            <div className="grid max-w-xl gap-4">
              <Field label="Campaign name" error={errors.name}>
                <Input value={name} maxLength={200} onChange={(event) => setName(event.target.value)} placeholder="Spring renewals" />
              </Field>
              <Field label="Agent" hint="Who speaks on every call." error={errors.agent_id ?? (agents.error ? errorMessage(agents.error) : undefined)}>
                <Select value={agentId} onChange={(event) => setAgentId(event.target.value)}>
                  <option value="">{agents.isPending ? "Loading agents…" : "Choose an agent"}</option>
                  {(agents.data?.agents ?? []).map((agent) => (
                    <option key={agent.agent_id} value={agent.agent_id}>
                      {agent.name}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field
                label="Calls from"
                hint={twilioNumbers.length === 0 && numbers.data ? "No Twilio number yet: register one (POST /v1/convai/phone-numbers) to call out." : "A Twilio number of yours; leads see it as the caller."}
                error={errors.agent_phone_number_id ?? (numbers.error ? errorMessage(numbers.error) : undefined)}
              >
                <Select value={numberId} onChange={(event) => setNumberId(event.target.value)}>
                  <option value="">{numbers.isPending ? "Loading numbers…" : "Choose a number"}</option>
                  {twilioNumbers.map((number) => (
                    <option key={number.phone_number_id} value={number.phone_number_id}>
                      {number.phone_number} {number.label ? `· ${number.label}` : ""}
                    </option>
                  ))}
                </Select>
              </Field>
            </div>
          ) : step === "leads" ? (
            <LeadsStep leads={leads} onFile={(file) => void readFile(file).catch((error: unknown) => setFileError(errorMessage(error)))} onMapping={(mapping) => leads && setLeads({ ...leads, mapping })} error={fileError} />
          ) : step === "schedule" ? (
            <ScheduleStep draft={settings} onChange={setSettings} errors={errors} />
          ) : (
            <DialingStep draft={settings} onChange={setSettings} errors={errors} />
          )}
          {create.error && !(create.error instanceof ApiError && create.error.fieldErrors.length > 0) ? (
            <Alert className="mt-6" title="The campaign was not created">
              {errorMessage(create.error)}
            </Alert>
          ) : null}
          {create.error instanceof ApiError && create.error.fieldErrors.length > 0 ? (
            <Alert className="mt-6" title="The campaign was not created">
              The API refused {create.error.fieldErrors.length === 1 ? "a setting" : `${create.error.fieldErrors.length} settings`}: the steps marked in red hold
              them, each message beside its field.
            </Alert>
          ) : null}
          <div className="mt-8 flex flex-wrap items-center justify-between gap-3 border-t border-line pt-5">
            <Button variant="secondary" disabled={index === 0} onClick={() => setStep(STEPS[index - 1]?.[0] ?? "basics")}>
              Back
            </Button>
            <div className="flex flex-wrap items-center gap-3">
              {basicsMissing || leadsProblem ? (
                <p className="text-sm text-muted">{basicsMissing ? "Name the campaign and choose its agent and number." : leadsProblem}</p>
              ) : null}
              {index < STEPS.length - 1 ? (
                <Button variant="secondary" onClick={() => setStep(STEPS[index + 1]?.[0] ?? "dialing")}>
                  Next
                </Button>
              ) : null}
              <Button
                busy={create.isPending}
                disabled={basicsMissing || Boolean(leadsProblem)}
                onClick={() => {
                  setErrors({});
                  create.mutate();
                }}
              >
                Create campaign
              </Button>
            </div>
          </div>
        </Card>
      </div>
      <p className="mt-4 text-sm text-muted">
        <Link href="/campaigns/" className="font-medium text-accent underline">
          Back to campaigns
        </Link>
      </p>
    </>
  );
}
