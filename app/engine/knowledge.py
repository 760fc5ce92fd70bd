"""What the agent knows from its knowledge base, as the engine sees it: a `KnowledgeSource`
the calls room supplies (the engine never reads the database), and `TurnKnowledge`, which
starts retrieval on the recognizer's final transcript, while the end of the turn is still
being decided, so the answer finds the passages ready."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from app.aio import cancel_and_wait
from app.providers.base import ChatMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    id: str
    document_id: str
    text: str
    distance: float  # cosine distance, 1 - similarity


class KnowledgeSource(Protocol):
    embedding_model: str  # named in each retrieval's record

    async def prompt_section(self) -> str:
        """The `usage_mode: "prompt"` documents, whole, for the system prompt ("" if none)."""
        ...

    async def retrieve(self, query: str) -> list[RetrievedChunk]:
        """The passages nearest `query`, within the agent's `rag` limits, nearest first."""
        ...


class EventLog(Protocol):
    def event(self, kind: str, **data: Any) -> None: ...


class TurnKnowledge:
    """One call's retrieval: at most one search in flight, for the caller's latest words."""

    def __init__(self, source: KnowledgeSource, events: EventLog) -> None:
        self._source = source
        self._events = events
        self._query = ""
        self._task: asyncio.Task[list[RetrievedChunk]] | None = None
        self._started = 0.0

    def prefetch(self, query: str) -> None:
        """Start searching for `query` now (a final transcript arrived)."""
        query = query.strip()
        if not query or query == self._query:
            return
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._query = query
        self._started = time.perf_counter()
        self._task = asyncio.create_task(self._source.retrieve(query), name="knowledge:retrieve")

    async def context_for(self, query: str, turn: str) -> ChatMessage | None:
        """The passages for the turn's text as a system message (None if none matched or the
        search failed: the agent answers without them), recorded as a `knowledge_retrieved`
        event with each chunk's id and distance."""
        prefetched = self._task is not None and self._query == query.strip()
        self.prefetch(query)
        task = self._task
        if task is None:
            return None
        try:
            chunks = await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # retrieval failing never fails the turn
            log.warning("knowledge retrieval failed: %r", error)
            self._events.event("knowledge_retrieval_failed", turn=turn, error=repr(error))
            return None
        self._events.event(
            "knowledge_retrieved",
            turn=turn,
            retrieval_ms=round((time.perf_counter() - self._started) * 1000, 1),
            prefetched=prefetched,
            query=query.strip(),
            embedding_model=self._source.embedding_model,
            chunks=[
                {"id": c.id, "document_id": c.document_id, "distance": round(c.distance, 4)}
                for c in chunks
            ],
        )
        if not chunks:
            return None
        passages = "\n\n".join(f"[{n}] {chunk.text}" for n, chunk in enumerate(chunks, 1))
        return ChatMessage(
            "system",
            "Passages from the knowledge base that may answer the caller's last words "
            f"(use them if relevant, never read out the numbers):\n\n{passages}",
        )

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            await cancel_and_wait(self._task)


def with_knowledge(messages: list[ChatMessage], context: ChatMessage | None) -> list[ChatMessage]:
    """The messages for the model with the passages just before the caller's last words."""
    if context is None:
        return messages
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            return [*messages[:index], context, *messages[index:]]
    return [*messages, context]
