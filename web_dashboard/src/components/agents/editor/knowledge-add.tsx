"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { ApiError, errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { Field, Input, Textarea } from "@/components/ui/field";
import { errorsByPath } from "@/lib/agent-draft";
import { locatorOf, type DocumentType, type KnowledgeLocator } from "@/lib/knowledge";

/** The API's largest page: the editor offers the workspace's 100 newest documents. */
const DOCUMENTS_PAGE = 100;
const FILE_TYPES = ".pdf,.docx,.html,.htm,.md,.markdown,.txt,.csv";

export const workspaceDocumentsKey = ["knowledge", "list"] as const;

/** The workspace's documents, newest first (`GET /v1/convai/knowledge-base`). */
export function useWorkspaceDocuments() {
  return useQuery({
    queryKey: workspaceDocumentsKey,
    queryFn: () => unwrap(api.GET("/v1/convai/knowledge-base", { params: { query: { page_size: DOCUMENTS_PAGE } } })),
    staleTime: 30_000,
  });
}

const SOURCES: { value: DocumentType; label: string }[] = [
  { value: "text", label: "Text typed here" },
  { value: "url", label: "A web page" },
  { value: "file", label: "A file" },
];

type Added = Schemas["AddedDocument"];

function create(source: DocumentType, name: string, text: string, url: string, file: File | null): Promise<Added> {
  const given = name.trim() ? name.trim() : null;
  if (source === "text") return unwrap(api.POST("/v1/convai/knowledge-base/text", { body: { text, name: given } }));
  if (source === "url") return unwrap(api.POST("/v1/convai/knowledge-base/url", { body: { url: url.trim(), name: given } }));
  const form = new FormData();
  if (file) form.append("file", file);
  if (given) form.append("name", given);
  // Multipart: openapi-fetch sends FormData as it is, the browser setting its boundary.
  return unwrap(api.POST("/v1/convai/knowledge-base/file", { body: form as unknown as { file: string } }));
}

/**
 * A new document of the workspace from text, a web page (the server fetches it now) or a file
 * upload; once the API has it, it is attached to the agent's draft.
 */
export function AddDocument({ onAdded }: { onAdded: (locator: KnowledgeLocator) => void }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [source, setSource] = useState<DocumentType>("text");
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [url, setUrl] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [fileInput, setFileInput] = useState(0);
  const [added, setAdded] = useState<string | null>(null);

  const add = useMutation({
    mutationFn: () => create(source, name, text, url, file),
    onSuccess: (document) => {
      onAdded(locatorOf({ id: document.id, name: document.name, type: source }));
      void client.invalidateQueries({ queryKey: workspaceDocumentsKey });
      setAdded(document.name);
      setName("");
      setText("");
      setUrl("");
      setFile(null);
      setFileInput((key) => key + 1);
      setOpen(false);
    },
  });
  const fieldErrors = add.error instanceof ApiError ? errorsByPath(add.error.fieldErrors) : {};
  const generalError = add.error && Object.keys(fieldErrors).length === 0 ? errorMessage(add.error) : null;
  const ready = source === "text" ? text.trim() !== "" : source === "url" ? url.trim() !== "" : file !== null;

  if (!open) {
    return (
      <div className="space-y-2">
        {added ? (
          <p role="status" className="text-sm text-success">
            “{added}” was added to the workspace and attached.
          </p>
        ) : null}
        <Button
          type="button"
          variant="secondary"
          size="sm"
          onClick={() => {
            setAdded(null);
            setOpen(true);
          }}
        >
          Add a new document
        </Button>
      </div>
    );
  }
  return (
    <form
      aria-label="New document"
      className="space-y-4 rounded-md border border-line p-4"
      onSubmit={(event) => {
        event.preventDefault();
        if (ready) add.mutate();
      }}
    >
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-ink">New document from</legend>
        <div className="flex flex-wrap gap-x-5 gap-y-1 text-sm">
          {SOURCES.map((option) => (
            <label key={option.value} className="inline-flex items-center gap-2 text-ink">
              <input
                type="radio"
                name="document-source"
                className="accent-[rgb(var(--accent))]"
                checked={source === option.value}
                onChange={() => {
                  setSource(option.value);
                  add.reset();
                }}
              />
              {option.label}
            </label>
          ))}
        </div>
      </fieldset>
      <Field label="Name (optional)" hint="Else the text’s first words, the page’s address or the file’s name." error={fieldErrors.name}>
        <Input value={name} onChange={(event) => setName(event.target.value)} maxLength={500} />
      </Field>
      {source === "text" ? (
        <Field label="Text" error={fieldErrors.text}>
          <Textarea value={text} rows={6} onChange={(event) => setText(event.target.value)} />
        </Field>
      ) : null}
      {source === "url" ? (
        <Field label="Page address" hint="The server fetches the page now and keeps its main text." error={fieldErrors.url}>
          <Input type="url" inputMode="url" placeholder="https://example.com/prices" value={url} onChange={(event) => setUrl(event.target.value)} />
        </Field>
      ) : null}
      {source === "file" ? (
        <Field label="File" hint="PDF, DOCX, HTML, Markdown, TXT or CSV." error={fieldErrors.file}>
          <input
            key={fileInput}
            type="file"
            accept={FILE_TYPES}
            className="block w-full text-sm text-ink file:mr-3 file:rounded-md file:border file:border-line file:bg-surface file:px-3 file:py-1.5 file:text-sm file:text-ink"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
        </Field>
      ) : null}
      {generalError ? <Alert title="Not added">{generalError}</Alert> : null}
      <div className="flex gap-2">
        <Button type="submit" size="sm" busy={add.isPending} disabled={!ready}>
          Add and attach
        </Button>
        <Button
          type="button"
          size="sm"
          variant="ghost"
          onClick={() => {
            add.reset();
            setOpen(false);
          }}
        >
          Cancel
        </Button>
      </div>
    </form>
  );
}
