/**
 * An agent's knowledge base as the editor shows it: the API's limits for `prompt.rag`
 * (app/config/knowledge.py) and a document's index status (`GET …/{id}/rag-index`) in words.
 */
import type { Schemas } from "@/api/client";

export type KnowledgeLocator = Schemas["KnowledgeBaseLocator"];
export type RagIndex = Schemas["RagIndex"];
export type DocumentType = Schemas["DocumentSummary"]["type"];

/** The API's bounds for each RAG setting (it refuses values outside them with a 422). */
export const RAG_LIMITS = {
  max_retrieved_rag_chunks_count: { min: 1, max: 100 },
  max_vector_distance: { min: 0, max: 2 },
  max_documents_length: { min: 1, max: 500_000 },
} as const;

/** A `usage_mode: "prompt"` document goes whole into the prompt up to this many characters. */
export const PROMPT_DOCUMENT_MAX_CHARS = 20_000;

/** At most this many documents per agent (`prompt.knowledge_base`). */
export const MAX_AGENT_DOCUMENTS = 100;

export const DOCUMENT_TYPES: Record<KnowledgeLocator["type"], string> = {
  text: "Text",
  url: "Web page",
  file: "File",
  folder: "Folder",
};

export interface IndexState {
  label: string;
  tone: "neutral" | "success" | "danger" | "warning";
  /** Still indexing: read the status again. */
  pending: boolean;
  /** 0–100 while indexing, else null. */
  progress: number | null;
}

/** The index's status in words; `created` is queued, `processing` has its progress. */
export function indexState(index: RagIndex | undefined): IndexState {
  if (!index) return { label: "Unknown", tone: "neutral", pending: false, progress: null };
  switch (index.status) {
    case "succeeded":
      return { label: "Indexed", tone: "success", pending: false, progress: null };
    case "failed":
      return { label: "Indexing failed", tone: "danger", pending: false, progress: null };
    case "created":
      return { label: "Waiting to be indexed", tone: "warning", pending: true, progress: index.progress_percentage };
    case "processing":
      return { label: "Indexing", tone: "warning", pending: true, progress: index.progress_percentage };
    default:
      return { label: index.status, tone: "neutral", pending: false, progress: null };
  }
}

/** The agent's reference to a document, retrieved from (`auto`) unless chosen otherwise. */
export function locatorOf(document: { id: string; name: string; type: DocumentType }): KnowledgeLocator {
  return { type: document.type, name: document.name, id: document.id, usage_mode: "auto" };
}
