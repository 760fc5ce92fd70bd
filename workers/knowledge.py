"""Knowledge-base indexing: beat's task embeds the documents due (app/knowledge/indexing.py),
one at a time, storing progress as it goes, on a queue of their own; the model loads once per
worker process."""

from __future__ import annotations

from typing import Any

from app.knowledge.indexing import LEASE, index_due_documents
from app.knowledge.minilm import shared_model
from workers.celery_app import worker_task
from workers.database import task_database

# How many documents one run starts before it leaves the rest to the next run.
DOCUMENTS_PER_RUN = 20
# The longest document (app/knowledge/intake.py) embeds in minutes on one core; the lease on a
# document outlasts the task's hard limit, so a killed run's document is taken up again later.
INDEX_TIME_LIMIT_S = 1800
assert LEASE.total_seconds() > INDEX_TIME_LIMIT_S


@worker_task(
    bind=True,
    name="workers.knowledge.index_documents",
    time_limit=INDEX_TIME_LIMIT_S,
    soft_time_limit=INDEX_TIME_LIMIT_S - 60,
)
def index_documents(self: Any) -> dict[str, int]:
    """Index the documents due; returns how many were indexed."""
    indexed = index_due_documents(
        task_database(self.app), shared_model(), max_documents=DOCUMENTS_PER_RUN
    )
    return {"indexed": indexed}
