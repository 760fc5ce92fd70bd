"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/card";
import { Field, Select } from "@/components/ui/field";
import { DOCUMENT_TYPES, indexState, locatorOf, MAX_AGENT_DOCUMENTS, PROMPT_DOCUMENT_MAX_CHARS, RAG_LIMITS, type KnowledgeLocator } from "@/lib/knowledge";

import { useEditor, useFieldError } from "./context";
import { Grid, NumberField, RemoveButton, Section, SubHeading, ToggleField } from "./controls";
import { AddDocument, useWorkspaceDocuments } from "./knowledge-add";

const PATH = "conversation_config.agent.prompt.knowledge_base";
const RAG = "conversation_config.agent.prompt.rag";
/** How often a document still being indexed is asked about. */
const INDEX_POLL_MS = 2_000;

/** The documents the agent answers from, how each is used, and retrieval's settings. */
export function KnowledgeSection() {
  const { draft, edit, readOnly } = useEditor();
  const prompt = draft.conversation_config.agent.prompt;
  const documents = prompt.knowledge_base;
  const rag = prompt.rag;
  const listError = useFieldError(PATH);
  const attach = (locator: KnowledgeLocator) =>
    edit((d) => {
      const list = d.conversation_config.agent.prompt.knowledge_base;
      if (!list.some((item) => item.id === locator.id)) list.push(locator);
    });

  return (
    <Section id="knowledge" title="Knowledge" description="Documents the agent answers from: whole in its prompt, or passages retrieved for each turn. Saved with the agent.">
      {documents.length === 0 ? <p className="rounded-md border border-dashed border-line px-3 py-2.5 text-sm text-muted">No document attached: the agent answers from its prompt alone.</p> : null}
      {documents.length > 0 ? (
        <ul className="divide-y divide-line rounded-md border border-line" aria-label="Attached documents">
          {documents.map((document, index) => (
            <DocumentRow key={document.id} locator={document} index={index} />
          ))}
        </ul>
      ) : null}
      {listError ? (
        <p role="alert" className="text-xs font-medium text-danger">
          {listError}
        </p>
      ) : null}
      {readOnly ? null : documents.length >= MAX_AGENT_DOCUMENTS ? (
        <p className="text-sm text-muted">An agent holds at most {MAX_AGENT_DOCUMENTS} documents.</p>
      ) : (
        <>
          <AttachExisting attachedIds={documents.map((document) => document.id)} onAttach={attach} />
          <AddDocument onAdded={attach} />
        </>
      )}

      <SubHeading>Retrieval (RAG)</SubHeading>
      <ToggleField
        label="Retrieve passages for each turn"
        path={`${RAG}.enabled`}
        checked={rag.enabled}
        onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.rag.enabled = value))}
        hint="For documents used as “Retrieved when relevant”: the caller’s words find the closest passages, given to the model before it answers."
      />
      <Grid>
        <NumberField
          label="Passages per turn, at most"
          path={`${RAG}.max_retrieved_rag_chunks_count`}
          value={rag.max_retrieved_rag_chunks_count}
          step={1}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.rag.max_retrieved_rag_chunks_count = value))}
          hint={`${RAG_LIMITS.max_retrieved_rag_chunks_count.min} to ${RAG_LIMITS.max_retrieved_rag_chunks_count.max}.`}
        />
        <NumberField
          label="Largest vector distance"
          path={`${RAG}.max_vector_distance`}
          value={rag.max_vector_distance}
          step={0.05}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.rag.max_vector_distance = value))}
          hint={`Cosine distance (1 − similarity), ${RAG_LIMITS.max_vector_distance.min} to ${RAG_LIMITS.max_vector_distance.max}: lower keeps only closer passages.`}
        />
        <NumberField
          label="Passages’ total length, at most"
          unit="characters"
          path={`${RAG}.max_documents_length`}
          value={rag.max_documents_length}
          step={1}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.rag.max_documents_length = value))}
          hint={`${RAG_LIMITS.max_documents_length.min} to ${RAG_LIMITS.max_documents_length.max.toLocaleString("en-US")}.`}
        />
      </Grid>
    </Section>
  );
}

function DocumentRow({ locator, index }: { locator: KnowledgeLocator; index: number }) {
  const { edit, readOnly } = useEditor();
  const error = useFieldError(`${PATH}.${index}`);
  return (
    <li className="space-y-2 px-4 py-3">
      {/* Name and detach on one line; how it is used beside them, or under them when narrow. */}
      <div className="grid grid-cols-[minmax(0,1fr)_auto] items-start gap-x-3 gap-y-2 sm:grid-cols-[minmax(0,1fr)_auto_auto]">
        <div className="min-w-0">
          <p className="flex flex-wrap items-center gap-2 text-sm font-medium text-ink">
            <span className="break-all">{locator.name}</span>
            <Badge>{DOCUMENT_TYPES[locator.type]}</Badge>
          </p>
          <p className="break-all font-mono text-xs text-muted">{locator.id}</p>
        </div>
        <label className="col-span-2 flex items-center gap-2 text-sm text-ink sm:col-span-1 sm:col-start-2 sm:row-start-1">
          <span>Use</span>
          <Select
            aria-label={`How ${locator.name} is used`}
            className="h-8 w-auto"
            value={locator.usage_mode}
            disabled={readOnly}
            onChange={(event) => edit((d) => void (d.conversation_config.agent.prompt.knowledge_base[index]!.usage_mode = event.target.value as KnowledgeLocator["usage_mode"]))}
          >
            <option value="auto">Retrieved when relevant</option>
            <option value="prompt">Whole, in the prompt</option>
          </Select>
        </label>
        <div className="col-start-2 row-start-1 -my-1 sm:col-start-3">
          <RemoveButton label={`Detach ${locator.name}`} disabled={readOnly} onClick={() => edit((d) => void d.conversation_config.agent.prompt.knowledge_base.splice(index, 1))} />
        </div>
      </div>
      {locator.usage_mode === "prompt" ? <p className="text-xs text-muted">Its first {PROMPT_DOCUMENT_MAX_CHARS.toLocaleString("en-US")} characters go into the system prompt when a call starts.</p> : null}
      {locator.type === "folder" ? null : <IndexStatus documentId={locator.id} name={locator.name} />}
      {error ? (
        <p role="alert" className="text-xs font-medium text-danger">
          {error}
        </p>
      ) : null}
    </li>
  );
}

/** The document's index (`GET …/rag-index`), read again while it is being built. */
function IndexStatus({ documentId, name }: { documentId: string; name: string }) {
  const { readOnly } = useEditor();
  const client = useQueryClient();
  const key = ["knowledge", "index", documentId] as const;
  const index = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/v1/convai/knowledge-base/{documentation_id}/rag-index", { params: { path: { documentation_id: documentId } } })),
    refetchInterval: (query) => (indexState(query.state.data?.indexes[0]).pending ? INDEX_POLL_MS : false),
  });
  const retry = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/convai/knowledge-base/{documentation_id}/rag-index", {
          params: { path: { documentation_id: documentId } },
          body: { model: "all_minilm_l6_v2" },
        }),
      ),
    onSuccess: (answer) => client.setQueryData(key, { indexes: [answer] }),
  });
  if (index.isPending) return <p className="text-xs text-muted">Reading the index status…</p>;
  if (index.error) return <p className="text-xs text-danger">The index status could not be read: {errorMessage(index.error)}</p>;
  const current = index.data.indexes[0];
  const state = indexState(current);
  return (
    <div className="flex flex-wrap items-center gap-3 text-xs">
      <Badge tone={state.tone}>{state.label}</Badge>
      {state.progress !== null ? (
        <div
          role="progressbar"
          aria-label={`Indexing ${name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={state.progress}
          className="h-1.5 w-40 overflow-hidden rounded-full bg-subtle"
        >
          <div className="h-full bg-accent transition-[width]" style={{ width: `${state.progress}%` }} />
        </div>
      ) : null}
      {state.progress !== null ? <span className="text-muted">{state.progress}%</span> : null}
      {current?.status === "failed" && current.error ? <span className="text-danger">{current.error}</span> : null}
      {current?.status === "failed" && !readOnly ? (
        <Button type="button" size="sm" variant="secondary" busy={retry.isPending} onClick={() => retry.mutate()}>
          Index again
        </Button>
      ) : null}
      {retry.error ? <span className="text-danger">{errorMessage(retry.error)}</span> : null}
    </div>
  );
}

/** Attach one of the workspace's documents the agent does not have yet. */
function AttachExisting({ attachedIds, onAttach }: { attachedIds: string[]; onAttach: (locator: KnowledgeLocator) => void }) {
  const documents = useWorkspaceDocuments();
  const [chosen, setChosen] = useState("");
  const available = (documents.data?.documents ?? []).filter((document) => !attachedIds.includes(document.id));
  if (documents.error) return <p className="text-sm text-danger">The workspace’s documents could not be loaded: {errorMessage(documents.error)}</p>;
  if (documents.isPending || available.length === 0) return null;
  const selected = available.find((document) => document.id === chosen);
  return (
    <div className="flex flex-wrap items-end gap-2">
      <Field label="Attach a document of this workspace" className="min-w-0 flex-1">
        <Select value={chosen} onChange={(event) => setChosen(event.target.value)}>
          <option value="">Choose a document…</option>
          {available.map((document) => (
            <option key={document.id} value={document.id}>
              {document.name} ({DOCUMENT_TYPES[document.type]})
            </option>
          ))}
        </Select>
      </Field>
      <Button
        type="button"
        variant="secondary"
        disabled={!selected}
        onClick={() => {
          if (!selected) return;
          onAttach(locatorOf(selected));
          setChosen("");
        }}
      >
        Attach
      </Button>
    </div>
  );
}
