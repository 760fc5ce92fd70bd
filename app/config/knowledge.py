"""An agent's knowledge base in ElevenLabs' shapes: `prompt.knowledge_base` (which documents,
each whole in the prompt or retrieved from) and `prompt.rag` (retrieval's settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

# A `usage_mode: "prompt"` document goes whole into the system prompt up to this many
# characters; a longer one is refused there (retrieve from it with "auto").
PROMPT_DOCUMENT_MAX_CHARS = 20_000


class KnowledgeBaseLocator(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    type: Literal["file", "url", "text", "folder"]
    name: str = Field(max_length=500)
    id: str = Field(min_length=1, max_length=64)
    usage_mode: Literal["prompt", "auto"] = "auto"


class RagSettings(BaseModel):
    """Retrieval per turn: up to `max_retrieved_rag_chunks_count` passages whose cosine
    distance (1 - cosine similarity) is at most `max_vector_distance`, and together at most
    `max_documents_length` characters."""

    model_config = ConfigDict(extra="allow", strict=True)

    enabled: StrictBool = False
    max_vector_distance: float = Field(default=0.6, ge=0.0, le=2.0)
    max_documents_length: int = Field(default=50_000, ge=1, le=500_000)
    max_retrieved_rag_chunks_count: int = Field(default=20, ge=1, le=100)
