"""Indexing: a document's text cut into overlapping passages, each embedded with
all-MiniLM-L6-v2 and stored with its vector; progress is stored as batches finish, so the
`rag-index` status shows it. Runs in a worker (workers/knowledge.py), or called directly where
no worker runs (tests, embedded use)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from app.db import knowledge as knowledge_rows
from app.db.knowledge import IndexJob
from app.db.models import utc_now
from app.db.session import Database
from app.knowledge.chunking import chunk_text

log = logging.getLogger(__name__)

# A document being indexed is its worker's for this long; then it is due again.
LEASE = timedelta(minutes=40)
BATCH = 32
MAX_ATTEMPTS = 3


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


def vector_bytes(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def index_due_documents(database: Database, embedder: Embedder, *, max_documents: int = 50) -> int:
    """Index documents due, one at a time; returns how many were indexed."""
    indexed = 0
    for _ in range(max_documents):
        with database.session() as session:
            job = knowledge_rows.claim_index_job(session, utc_now(), LEASE)
        if job is None:
            break
        if index_document(database, embedder, job):
            indexed += 1
    return indexed


def index_document(database: Database, embedder: Embedder, job: IndexJob) -> bool:
    """Chunk, embed and store one claimed document; a failure is stored on it with why."""
    if job.attempt > MAX_ATTEMPTS:
        with database.session() as session:
            knowledge_rows.fail_index_job(session, job, f"gave up after {MAX_ATTEMPTS} tries")
        return False
    try:
        texts = chunk_text(job.content)
        stored: list[tuple[str, bytes]] = []
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            vectors = embedder.embed(batch)
            stored.extend(
                (text, vector_bytes(vector)) for text, vector in zip(batch, vectors, strict=True)
            )
            with database.session() as session:
                if not knowledge_rows.report_progress(session, job, len(stored) / len(texts)):
                    return False  # the lease went to another worker
        with database.session() as session:
            return knowledge_rows.store_chunks(session, job, stored)
    except Exception as error:  # stored on the document, so its status says why
        log.exception("indexing knowledge document %s failed", job.document_id)
        with database.session() as session:
            knowledge_rows.fail_index_job(session, job, f"{type(error).__name__}: {error}")
        return False
