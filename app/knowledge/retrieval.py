"""Retrieval for one agent: the vectors of its documents' chunks held in memory (one matrix per
agent, reloaded when a document is indexed again or removed), searched with one numpy matrix
product per turn; the query embedded with the same model."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.config.knowledge import PROMPT_DOCUMENT_MAX_CHARS, KnowledgeBaseLocator, RagSettings
from app.db import knowledge as knowledge_rows
from app.db import knowledge_folders as folder_rows
from app.db.session import Database
from app.engine.knowledge import RetrievedChunk
from app.knowledge.indexing import Embedder
from app.knowledge.minilm import DIMENSIONS, shared_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkMatrix:
    """An agent's chunks: ids, documents, texts, and their unit vectors as rows."""

    version: str
    ids: list[str]
    document_ids: list[str]
    texts: list[str]
    vectors: npt.NDArray[np.float32]  # (n, 384)

    def search(self, query: npt.NDArray[np.float32], rag: RagSettings) -> list[RetrievedChunk]:
        """Nearest first, at most `max_retrieved_rag_chunks_count`, within
        `max_vector_distance`, together at most `max_documents_length` characters."""
        if not self.ids:
            return []
        similarities = self.vectors @ query
        count = min(rag.max_retrieved_rag_chunks_count, len(self.ids))
        top = np.argpartition(-similarities, count - 1)[:count]
        top = top[np.argsort(-similarities[top])]
        chosen: list[RetrievedChunk] = []
        length = 0
        for row in top:
            distance = 1.0 - float(similarities[row])
            if distance > rag.max_vector_distance:
                break
            if length + len(self.texts[row]) > rag.max_documents_length:
                break
            length += len(self.texts[row])
            chosen.append(
                RetrievedChunk(self.ids[row], self.document_ids[row], self.texts[row], distance)
            )
        return chosen


def load_matrix(
    database: Database, organization_id: str, document_ids: list[str], version: str
) -> ChunkMatrix:
    with database.session() as session:
        chunks = knowledge_rows.chunks_of(session, organization_id, document_ids)
    vectors = np.zeros((len(chunks), DIMENSIONS), dtype=np.float32)
    for row, chunk in enumerate(chunks):
        vectors[row] = np.frombuffer(chunk.vector, dtype="<f4")
    return ChunkMatrix(
        version,
        [chunk.id for chunk in chunks],
        [chunk.document_id for chunk in chunks],
        [chunk.text for chunk in chunks],
        vectors,
    )


class ChunkCache:
    """Matrices per agent, checked against the documents' index version on each use."""

    def __init__(self) -> None:
        self._matrices: dict[str, ChunkMatrix] = {}
        self._lock = threading.Lock()

    def matrix(
        self, database: Database, organization_id: str, agent_id: str, document_ids: list[str]
    ) -> ChunkMatrix:
        with database.session() as session:
            version = knowledge_rows.index_version(session, organization_id, document_ids)
        key = f"{organization_id}/{agent_id}"
        version = f"{','.join(sorted(document_ids))}|{version}"
        with self._lock:
            cached = self._matrices.get(key)
        if cached is not None and cached.version == version:
            return cached
        matrix = load_matrix(database, organization_id, document_ids, version)
        with self._lock:
            self._matrices[key] = matrix
        return matrix

    def forget(self, agent_id: str) -> None:
        with self._lock:
            for key in [key for key in self._matrices if key.endswith(f"/{agent_id}")]:
                del self._matrices[key]


SHARED_CACHE = ChunkCache()


class AgentKnowledge:
    """The engine's `KnowledgeSource` for one call of one agent."""

    embedding_model = "all_minilm_l6_v2"

    def __init__(
        self,
        database: Database,
        organization_id: str,
        agent_id: str,
        documents: list[KnowledgeBaseLocator],
        rag: RagSettings,
        *,
        embedder: Embedder | None = None,
        cache: ChunkCache = SHARED_CACHE,
    ) -> None:
        self._database = database
        self._organization_id = organization_id
        self._agent_id = agent_id
        # As the agent names them (a folder stands for the documents inside it, `_resolve`).
        self._prompt_ids = [d.id for d in documents if d.usage_mode == "prompt"]
        self._retrieved_ids = [d.id for d in documents if d.usage_mode == "auto"]
        self._resolved = not any(d.type == "folder" for d in documents)
        self._rag = rag
        self._embedder = embedder
        self._cache = cache
        self._warming: asyncio.Task[None] | None = None

    @property
    def retrieves(self) -> bool:
        return self._rag.enabled and bool(self._retrieved_ids)

    async def prompt_section(self) -> str:
        # Asked once as the call starts: the model and the agent's vectors load meanwhile, so
        # the first turn's retrieval finds them ready.
        if self.retrieves and self._warming is None:
            self._warming = asyncio.create_task(asyncio.to_thread(self._warm))
        if not self._prompt_ids:
            return ""
        return await asyncio.to_thread(self._prompt_section)

    def _resolve(self) -> None:
        """Folders replaced by the documents inside them, once per call (blocking)."""
        if self._resolved:
            return
        with self._database.session() as session:
            organization_id = self._organization_id
            self._prompt_ids = folder_rows.documents_in(session, organization_id, self._prompt_ids)
            self._retrieved_ids = folder_rows.documents_in(
                session, organization_id, self._retrieved_ids
            )
        self._resolved = True

    def _warm(self) -> None:
        try:
            self._resolve()
            self._cache.matrix(
                self._database, self._organization_id, self._agent_id, self._retrieved_ids
            )
            if self._embedder is None:
                shared_model()
        except Exception:  # the turn's own retrieval will try again and say why
            log.exception("knowledge for agent %s could not be loaded", self._agent_id)

    def _prompt_section(self) -> str:
        self._resolve()
        with self._database.session() as session:
            documents = knowledge_rows.documents_by_id(
                session, self._organization_id, self._prompt_ids
            )
            parts = [
                f"## {document.name}\n{document.content[:PROMPT_DOCUMENT_MAX_CHARS]}"
                for document in documents
            ]
        if not parts:
            return ""
        return "\n\n# Knowledge base\n\n" + "\n\n".join(parts)

    async def retrieve(self, query: str) -> list[RetrievedChunk]:
        if not self.retrieves:
            return []
        return await asyncio.to_thread(self._retrieve, query)

    def _retrieve(self, query: str) -> list[RetrievedChunk]:
        self._resolve()
        matrix = self._cache.matrix(
            self._database, self._organization_id, self._agent_id, self._retrieved_ids
        )
        if not matrix.ids:
            return []
        embedder = self._embedder or shared_model()
        vector = embedder.embed([query])[0]
        return matrix.search(vector, self._rag)
