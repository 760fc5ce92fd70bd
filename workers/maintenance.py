"""Maintenance tasks that beat runs on a schedule: retention clean-up of the service's tables."""

from __future__ import annotations

from typing import Any

from app.db.models import utc_now
from app.db.retention import delete_expired_conversation_tokens
from workers.celery_app import worker_task
from workers.idempotency import run_idempotently


@worker_task(bind=True, name="workers.maintenance.purge_used_conversation_tokens")
def purge_used_conversation_tokens(self: Any, idempotency_key: str | None = None) -> dict[str, Any]:
    """Delete used conversation tokens past their expiry; returns ``{"deleted": <count>}``."""
    return run_idempotently(
        self,
        lambda session: {"deleted": delete_expired_conversation_tokens(session, utc_now())},
        key=idempotency_key,
    )
