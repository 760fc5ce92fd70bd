"""Knowledge-base indexing: beat's task embeds the documents due (app/knowledge/indexing.py),
one at a time, storing progress as it goes; the model loads once per worker process."""

from __future__ import annotations

from typing import Any

from app.knowledge.indexing import index_due_documents
from app.knowledge.minilm import shared_model
from workers.celery_app import TASK_SOFT_TIME_LIMIT_S, TASK_TIME_LIMIT_S, worker_task
from workers.database import task_database

# How many documents one run starts before it leaves the rest to the next run.
DOCUMENTS_PER_RUN = 20


@worker_task(
    bind=True,
    name="workers.knowledge.index_documents",
    time_limit=TASK_TIME_LIMIT_S,
    soft_time_limit=TASK_SOFT_TIME_LIMIT_S,
)
def index_documents(self: Any) -> dict[str, int]:
    """Index the documents due; returns how many were indexed."""
    indexed = index_due_documents(
        task_database(self.app), shared_model(), max_documents=DOCUMENTS_PER_RUN
    )
    return {"indexed": indexed}
