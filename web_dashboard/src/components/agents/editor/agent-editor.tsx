"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { ApiError, errorMessage } from "@/api/errors";
import { PageSkeleton } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Badge } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/dialog";
import { draftOf, errorsByPath, mergePatch, type Agent, type AgentDraft } from "@/lib/agent-draft";
import { cn } from "@/lib/cn";
import { formatUnix } from "@/lib/format";

import { TestPanel } from "../test-panel/test-panel";
import { EditorContext, type EditorState } from "./context";
import { KnowledgeSection } from "./knowledge-section";
import {
  AnalysisSection,
  GeneralSection,
  LimitsSection,
  PrivacySection,
  PromptSection,
  SECTIONS,
  sectionOf,
  TransfersSection,
  TurnsSection,
  VoiceSection,
} from "./sections";
import { ToolsSection } from "./tools-section";

export function agentKey(agentId: string) {
  return ["agents", "one", agentId] as const;
}

/** Loads one agent and edits it; `canWrite` false shows it read-only. */
export function AgentEditor({ agentId, canWrite }: { agentId: string; canWrite: boolean }) {
  const agent = useQuery({
    queryKey: agentKey(agentId),
    // The API sends every setting (defaults filled in); `Agent` is the schema's type saying so.
    queryFn: async () => (await unwrap(api.GET("/v1/convai/agents/{agent_id}", { params: { path: { agent_id: agentId } } }))) as Agent,
    staleTime: Infinity,
  });
  if (agent.isPending) return <PageSkeleton />;
  if (agent.error) {
    const missing = agent.error instanceof ApiError && agent.error.status === 404;
    return (
      <Alert title={missing ? "This agent does not exist" : "The agent could not be loaded"}>
        {missing ? "It may have been deleted. " : `${errorMessage(agent.error)} `}
        <Link href="/agents/" className="font-medium text-accent underline">
          Back to agents
        </Link>
      </Alert>
    );
  }
  return <LoadedEditor agent={agent.data} canWrite={canWrite} />;
}

function LoadedEditor({ agent, canWrite }: { agent: Agent; canWrite: boolean }) {
  const client = useQueryClient();
  const router = useRouter();
  const [saved, setSaved] = useState<Agent>(agent);
  const [draft, setDraft] = useState<AgentDraft>(() => draftOf(agent));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [refused, setRefused] = useState<AgentDraft | null>(null);
  const [justSaved, setJustSaved] = useState(false);
  const [deleting, setDeleting] = useState(false);

  const patch = useMemo(() => mergePatch(draftOf(saved), draft), [saved, draft]);
  const dirty = patch !== undefined;

  const edit = useCallback((mutate: (draft: AgentDraft) => void) => {
    setJustSaved(false);
    setDraft((current) => {
      const next = structuredClone(current);
      mutate(next);
      return next;
    });
  }, []);

  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/v1/convai/agents/{agent_id}", {
          params: { path: { agent_id: agent.agent_id } },
          // The merge patch of the draft against the saved agent: only changes, removals as null.
          body: patch as Schemas["AgentUpdateRequest"],
        }),
      ) as Promise<Agent>,
    onSuccess: (updated) => {
      setErrors({});
      setSaved(updated);
      setDraft(draftOf(updated));
      setJustSaved(true);
      client.setQueryData(agentKey(updated.agent_id), updated);
      void client.invalidateQueries({ queryKey: ["agents", "list"] });
    },
    onError: (error) => {
      setErrors(error instanceof ApiError ? errorsByPath(error.fieldErrors) : {});
      setRefused(draft);
      // Show the first refused field (else the summary above the form).
      requestAnimationFrame(() => {
        const target = document.querySelector<HTMLElement>('[aria-invalid="true"]') ?? document.getElementById("save-errors");
        target?.scrollIntoView({ block: "center" });
        if (target?.matches("input, textarea, select")) target.focus({ preventScroll: true });
      });
    },
  });

  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/v1/convai/agents/{agent_id}", { params: { path: { agent_id: agent.agent_id } } })),
    onSuccess: async () => {
      client.removeQueries({ queryKey: agentKey(agent.agent_id) });
      await client.invalidateQueries({ queryKey: ["agents", "list"] });
      router.push("/agents/");
    },
  });

  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const state: EditorState = { draft, edit, errors, refused, readOnly: !canWrite };
  const errorCount = Object.keys(errors).length;
  const perSection = Object.keys(errors).reduce<Record<string, number>>((counts, path) => {
    const section = sectionOf(path);
    counts[section] = (counts[section] ?? 0) + 1;
    return counts;
  }, {});

  return (
    <EditorContext.Provider value={state}>
      <div className="sticky top-14 z-20 -mx-4 -mt-8 mb-6 border-b border-line bg-canvas px-4 pb-4 pt-6 sm:-mx-6 sm:px-6">
        <nav aria-label="Breadcrumb" className="mb-1 text-sm text-muted">
          <Link href="/agents/" className="hover:text-ink">
            Agents
          </Link>{" "}
          <span aria-hidden="true">/</span> <span className="text-ink">{saved.name}</span>
        </nav>
        <div className="flex flex-wrap items-center justify-between gap-3">
          <div className="flex min-w-0 items-center gap-3">
            <h1 className="truncate text-2xl font-semibold tracking-tight text-ink">{saved.name}</h1>
            {!canWrite ? <Badge>Read only</Badge> : dirty ? <Badge tone="warning">Unsaved changes</Badge> : justSaved ? <Badge tone="success">Saved</Badge> : null}
          </div>
          {canWrite ? (
            <div className="flex items-center gap-2">
              <Button variant="ghost" onClick={() => setDeleting(true)} className="text-danger hover:text-danger">
                Delete
              </Button>
              <Button
                variant="secondary"
                disabled={!dirty || save.isPending}
                onClick={() => {
                  setDraft(draftOf(saved));
                  setErrors({});
                }}
              >
                Discard
              </Button>
              <Button busy={save.isPending} disabled={!dirty} onClick={() => save.mutate()}>
                Save
              </Button>
            </div>
          ) : null}
        </div>
        <p className="mt-1 font-mono text-xs text-muted">
          {saved.agent_id} · updated {formatUnix(saved.metadata.updated_at_unix_secs)}
        </p>
      </div>

      {save.error ? (
        <Alert id="save-errors" title={errorCount > 0 ? `Not saved: ${errorCount === 1 ? "one field needs" : `${errorCount} fields need`} attention` : "Not saved"} className="mb-6">
          {errorCount > 0 ? (
            <ul className="mt-1 list-inside list-disc space-y-0.5">
              {Object.entries(errors).map(([path, message]) => (
                <li key={path}>
                  <a className="underline" href={`#${sectionOf(path)}`}>
                    <span className="font-mono text-xs">{path || "body"}</span>
                  </a>
                  : {message}
                </li>
              ))}
            </ul>
          ) : (
            errorMessage(save.error)
          )}
        </Alert>
      ) : null}

      <div className="grid gap-8 lg:grid-cols-[13rem_1fr]">
        <nav aria-label="Agent settings" className="hidden lg:block">
          <ul className="sticky top-48 space-y-0.5">
            <li>
              <a href="#test" className="flex items-center justify-between rounded-md px-3 py-1.5 text-sm text-muted hover:bg-subtle hover:text-ink">
                Test
              </a>
            </li>
            {SECTIONS.map((section) => (
              <li key={section.id}>
                <a href={`#${section.id}`} className={cn("flex items-center justify-between rounded-md px-3 py-1.5 text-sm text-muted hover:bg-subtle hover:text-ink")}>
                  {section.title}
                  {perSection[section.id] ? (
                    <span className="ml-2 rounded-full bg-danger px-1.5 text-xs font-semibold text-white dark:text-canvas">
                      {perSection[section.id]}
                      <span className="sr-only"> errors</span>
                    </span>
                  ) : null}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="min-w-0 space-y-6">
          <TestPanel agentId={saved.agent_id} isPrivate={saved.platform_settings.auth.enable_auth} unsaved={dirty} />
          <GeneralSection />
          <PromptSection />
          <VoiceSection />
          <TurnsSection />
          <LimitsSection />
          <AnalysisSection />
          <PrivacySection />
          <ToolsSection />
          <KnowledgeSection />
          <TransfersSection />
        </div>
      </div>

      <ConfirmDialog
        open={deleting}
        onOpenChange={(open) => {
          setDeleting(open);
          if (!open) remove.reset();
        }}
        title={`Delete ${saved.name}?`}
        description="The agent stops answering at once and cannot be brought back. Its past calls stay readable."
        confirmLabel="Delete agent"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => remove.mutate()}
      />
    </EditorContext.Provider>
  );
}
