"use client";

import { useQuery } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Alert, Badge, Skeleton } from "@/components/ui/card";

import { useEditor, useFieldError } from "./context";
import { RemoveButton, Section } from "./controls";
import { NewToolButton } from "./tools-create";

type Tool = Schemas["ToolResponse"];

/** The API's largest page: the editor lists the workspace's first 100 tools. */
const TOOLS_PAGE = 100;

export const workspaceToolsKey = ["tools", "list"] as const;

/** The workspace's webhook tools, newest first (`GET /v1/convai/tools`). */
export function useWorkspaceTools() {
  return useQuery({
    queryKey: workspaceToolsKey,
    queryFn: () => unwrap(api.GET("/v1/convai/tools", { params: { query: { page_size: TOOLS_PAGE } } })),
    staleTime: 30_000,
  });
}

/** The workspace's webhook tools, each attached to the agent or not (`prompt.tool_ids`). */
export function ToolsSection() {
  const { draft, edit, readOnly } = useEditor();
  const tools = useWorkspaceTools();
  const error = useFieldError("conversation_config.agent.prompt.tool_ids");
  const attached = draft.conversation_config.agent.prompt.tool_ids;
  const listed = tools.data?.tools ?? [];
  // Ids the agent names that the list does not hold (deleted, or past the first page).
  const unlisted = tools.data ? attached.filter((id) => !listed.some((tool) => tool.id === id)) : [];

  const setAttached = (id: string, on: boolean) =>
    edit((d) => {
      const ids = d.conversation_config.agent.prompt.tool_ids;
      d.conversation_config.agent.prompt.tool_ids = on ? (ids.includes(id) ? ids : [...ids, id]) : ids.filter((other) => other !== id);
    });

  return (
    <Section id="tools" title="Tools" description="The workspace's webhook tools the agent may call during a conversation. Attached tools are saved with the agent.">
      <p className="text-sm text-muted">
        {attached.length === 0 ? "No tool attached." : `${attached.length} of at most 50 attached.`}
      </p>
      {tools.isPending ? (
        <div role="status" aria-busy="true" aria-label="Loading tools" className="space-y-2">
          <Skeleton className="h-14" />
          <Skeleton className="h-14" />
        </div>
      ) : tools.error ? (
        <Alert title="The tools could not be loaded">{errorMessage(tools.error)}</Alert>
      ) : listed.length === 0 ? (
        <div className="rounded-md border border-dashed border-line px-4 py-3 text-sm text-muted">
          <p className="font-medium text-ink">No webhook tools in this workspace yet</p>
          <p className="mt-1">
            {readOnly ? null : "Make one with New webhook tool below, or "}
            {readOnly ? "Create one" : "create one"} through the API, <code className="font-mono text-xs">POST /v1/convai/tools</code> with its{" "}
            <code className="font-mono text-xs">tool_config</code> (name, description, <code className="font-mono text-xs">api_schema</code> with the URL, method and
            parameters; see docs/agents.md), then attach it here.
          </p>
        </div>
      ) : (
        <ul className="divide-y divide-line rounded-md border border-line" aria-label="Webhook tools">
          {listed.map((tool) => (
            <ToolItem key={tool.id} tool={tool} attached={attached.includes(tool.id)} readOnly={readOnly} onChange={(on) => setAttached(tool.id, on)} />
          ))}
        </ul>
      )}
      {tools.data?.has_more ? <p className="text-xs text-muted">Only the newest {TOOLS_PAGE} tools are listed.</p> : null}
      {unlisted.map((id) => (
        <div key={id} className="flex items-center justify-between gap-3 rounded-md border border-warning/40 bg-warning/5 px-3 py-2 text-sm">
          <span>
            Attached but not listed: <code className="font-mono text-xs">{id}</code>
          </span>
          <RemoveButton label={`Detach ${id}`} disabled={readOnly} onClick={() => setAttached(id, false)} />
        </div>
      ))}
      {error ? (
        <p role="alert" className="text-xs font-medium text-danger">
          {error}
        </p>
      ) : null}
      {readOnly ? null : <NewToolButton onCreated={(id) => setAttached(id, true)} />}
    </Section>
  );
}

function ToolItem({ tool, attached, readOnly, onChange }: { tool: Tool; attached: boolean; readOnly: boolean; onChange: (attached: boolean) => void }) {
  const config = tool.tool_config;
  const checkboxId = `tool-${tool.id}`;
  return (
    <li className="flex items-start gap-3 px-4 py-3">
      <input
        id={checkboxId}
        type="checkbox"
        className="mt-1 h-4 w-4 shrink-0 accent-[rgb(var(--accent))]"
        checked={attached}
        disabled={readOnly}
        aria-describedby={`${checkboxId}-details`}
        onChange={(event) => onChange(event.target.checked)}
      />
      <div className="min-w-0 flex-1">
        <label htmlFor={checkboxId} className="flex flex-wrap items-center gap-2 text-sm font-medium text-ink">
          <span className="font-mono">{config.name}</span>
          {attached ? <Badge tone="success">Attached</Badge> : null}
        </label>
        <div id={`${checkboxId}-details`} className="mt-0.5 space-y-0.5 text-sm text-muted">
          <p>{config.description}</p>
          <p className="break-all font-mono text-xs">
            <span className="font-semibold text-ink">{config.api_schema.method}</span> {config.api_schema.url}
          </p>
        </div>
      </div>
    </li>
  );
}
