"use client";

import { createContext, useContext } from "react";

import type { AgentDraft } from "@/lib/agent-draft";

export interface EditorState {
  draft: AgentDraft;
  /** Change the draft: `mutate` edits a copy in place. */
  edit: (mutate: (draft: AgentDraft) => void) => void;
  /** The API's validation messages by field path (`velox.echo_tail_ms`). */
  errors: Record<string, string>;
  /** The draft the API refused: a field's error shows while its value is still the refused one. */
  refused: AgentDraft | null;
  readOnly: boolean;
}

export const EditorContext = createContext<EditorState | null>(null);

export function useEditor(): EditorState {
  const state = useContext(EditorContext);
  if (!state) throw new Error("useEditor outside the agent editor");
  return state;
}

/** The value at a dot-joined path (`velox.fallbacks.stt`), or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The API's error for a field and everything under it (a list row's fields included), shown
 * until the field is changed from what was refused.
 */
export function useFieldError(path: string): string | undefined {
  const { errors, draft, refused } = useEditor();
  if (refused && JSON.stringify(valueAt(draft, path)) !== JSON.stringify(valueAt(refused, path))) return undefined;
  const own = errors[path];
  if (own) return own;
  const nested = Object.entries(errors).filter(([key]) => key.startsWith(`${path}.`));
  return nested.length > 0 ? nested.map(([key, message]) => `${key.slice(path.length + 1)}: ${message}`).join(" ") : undefined;
}
