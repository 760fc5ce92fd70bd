"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { ApiError, errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { errorsByPath } from "@/lib/agent-draft";

type Method = Schemas["ApiSchema"]["method"];
const METHODS: Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** The `{name}` placeholders of a URL, each once, in order (the API's own pattern). */
export function urlPlaceholders(url: string): string[] {
  return [...new Set([...url.matchAll(/\{([^{}]+)\}/g)].map((match) => match[1] ?? ""))];
}

/**
 * A new webhook tool of the workspace (`POST /v1/convai/tools`): name, description, method, URL
 * and what the model gives for each `{placeholder}` of the URL. Query, body and header
 * parameters and assignments are the API's alone. Once made, it is attached to the draft.
 */
export function NewToolButton({ onCreated }: { onCreated: (toolId: string) => void }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [method, setMethod] = useState<Method>("GET");
  const [url, setUrl] = useState("https://");
  const [pathDescriptions, setPathDescriptions] = useState<Record<string, string>>({});
  const placeholders = urlPlaceholders(url);

  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/convai/tools", {
          body: {
            tool_config: {
              type: "webhook",
              name: name.trim(),
              description,
              api_schema: {
                url: url.trim(),
                method,
                ...(placeholders.length > 0
                  ? { path_params_schema: Object.fromEntries(placeholders.map((key) => [key, { type: "string" as const, description: pathDescriptions[key] ?? "" }])) }
                  : {}),
              },
            },
          },
        }),
      ),
    onSuccess: (tool) => {
      void client.invalidateQueries({ queryKey: ["tools", "list"] });
      onCreated(tool.id);
      setOpen(false);
      setName("");
      setDescription("");
      setMethod("GET");
      setUrl("https://");
      setPathDescriptions({});
    },
  });
  const errors = create.error instanceof ApiError ? errorsByPath(create.error.fieldErrors) : {};
  const shown = ["tool_config.name", "tool_config.description", "tool_config.api_schema.url"];
  const other = Object.entries(errors).filter(([path]) => !shown.includes(path));

  return (
    <>
      <Button type="button" variant="secondary" size="sm" onClick={() => setOpen(true)}>
        New webhook tool
      </Button>
      <Dialog
        open={open}
        onOpenChange={(next) => {
          setOpen(next);
          if (!next) create.reset();
        }}
        title="New webhook tool"
        description="A request the agent may send during a conversation. Query, body and header parameters are set through the API."
      >
        <form
          className="space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate();
          }}
        >
          <Field label="Name" hint="Letters, digits, _ and -; how the model calls it." error={errors["tool_config.name"]}>
            <Input className="font-mono" value={name} onChange={(event) => setName(event.target.value)} />
          </Field>
          <Field label="Description" hint="When the model should use it." error={errors["tool_config.description"]}>
            <Textarea rows={2} value={description} onChange={(event) => setDescription(event.target.value)} />
          </Field>
          <div className="grid grid-cols-[7rem_1fr] gap-3">
            <Field label="Method">
              <Select value={method} onChange={(event) => setMethod(event.target.value as Method)}>
                {METHODS.map((item) => (
                  <option key={item}>{item}</option>
                ))}
              </Select>
            </Field>
            <Field label="URL" hint="{name} marks a value the model gives." error={errors["tool_config.api_schema.url"]}>
              <Input className="font-mono" type="url" value={url} onChange={(event) => setUrl(event.target.value)} />
            </Field>
          </div>
          {placeholders.map((key) => (
            <Field key={key} label={`What {${key}} is`} hint="Told to the model, which gives the value.">
              <Input value={pathDescriptions[key] ?? ""} onChange={(event) => setPathDescriptions((current) => ({ ...current, [key]: event.target.value }))} />
            </Field>
          ))}
          {create.error && (other.length > 0 || Object.keys(errors).length === 0) ? (
            <Alert title="Not created">{other.length > 0 ? other.map(([path, message]) => `${path}: ${message}`).join(" ") : errorMessage(create.error)}</Alert>
          ) : null}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="ghost" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" busy={create.isPending} disabled={!name.trim() || !url.trim()}>
              Create and attach
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
