"use client";

import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage, sentence } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/field";
import { templateVariables } from "@/lib/agent-draft";

import { useEditor } from "./context";

type Preview = Schemas["TemplatePreviewResponse"];

/**
 * The system prompt and first message as a call would get them: rendered by the API
 * (`POST /v1/agent-templates/preview`, the same sandboxed renderer calls use) with sample values
 * for the variables they name, and the error the API would refuse them with.
 */
export function PromptPreview() {
  const { draft } = useEditor();
  const prompt = draft.conversation_config.agent.prompt.prompt;
  const firstMessage = draft.conversation_config.agent.first_message;
  const defaults = draft.velox.dynamic_variables;
  const names = templateVariables(prompt, firstMessage);
  const [samples, setSamples] = useState<Record<string, string>>({});
  const render = useMutation({
    mutationFn: (variables: Record<string, string>) =>
      unwrap(api.POST("/v1/agent-templates/preview", { body: { prompt, first_message: firstMessage, dynamic_variables: variables } })),
  });

  const values = Object.fromEntries(names.map((name) => [name, samples[name] ?? defaults[name] ?? ""]));
  const preview: Preview | undefined = render.data;
  const { mutate } = render;
  const key = JSON.stringify([prompt, firstMessage, values]);
  useEffect(() => {
    const timer = setTimeout(() => mutate(JSON.parse(key)[2] as Record<string, string>), 500);
    return () => clearTimeout(timer);
  }, [key, mutate]);

  return (
    <div className="rounded-lg border border-line bg-subtle/50">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-4 py-3">
        <div>
          <h3 className="text-sm font-semibold text-ink">Preview</h3>
          <p className="text-xs text-muted">Rendered by the server as a call would be, with these sample values and a sample call’s system variables.</p>
        </div>
        <Button type="button" variant="secondary" size="sm" busy={render.isPending} onClick={() => render.mutate(values)}>
          Render again
        </Button>
      </div>
      <div className="space-y-4 p-4">
        {names.length > 0 ? (
          <div className="grid gap-3 sm:grid-cols-2">
            {names.map((name) => (
              <div key={name} className="space-y-1">
                <label htmlFor={`sample-${name}`} className="font-mono text-xs text-muted">
                  {name}
                </label>
                <Input id={`sample-${name}`} value={values[name] ?? ""} onChange={(event) => setSamples({ ...samples, [name]: event.target.value })} />
              </div>
            ))}
          </div>
        ) : (
          <p className="text-xs text-muted">
            The prompt names no variables. Write <code className="font-mono">{"{{ name }}"}</code> to fill one in per call.
          </p>
        )}
        {render.error ? <p role="alert" className="text-sm text-danger">{errorMessage(render.error)}</p> : null}
        <Rendered title="System prompt" result={preview?.prompt} pending={!preview} />
        <Rendered title="First message" result={preview?.first_message} pending={!preview} />
      </div>
    </div>
  );
}

function Rendered({ title, result, pending }: { title: string; result: Schemas["RenderedTemplate"] | undefined; pending: boolean }) {
  return (
    <figure className="space-y-1">
      <figcaption className="text-xs font-medium uppercase tracking-wide text-muted">{title}</figcaption>
      {pending ? (
        <div role="status" className="h-16 animate-shimmer rounded-md bg-line/50">
          <span className="sr-only">Rendering…</span>
        </div>
      ) : result?.error ? (
        <p role="alert" className="rounded-md border border-danger/40 bg-danger/5 px-3 py-2 text-sm text-danger">
          {sentence(result.error)}
        </p>
      ) : (
        <pre className="max-h-64 overflow-auto whitespace-pre-wrap rounded-md border border-line bg-surface px-3 py-2 font-mono text-[13px] leading-relaxed text-ink">
          {result?.text || "(empty)"}
        </pre>
      )}
    </figure>
  );
}
