"""Maintenance tasks that beat runs on a schedule: retention clean-up of the service's tables
(agents' call retention included), and of the embedded broker's file."""

from __future__ import annotations

from typing import Any

from app.calls.retention import apply_retention as apply_call_retention
from app.db.models import utc_now
from app.db.retention import delete_delivered_messages, delete_expired_conversation_tokens
from workers.celery_app import worker_task
from workers.database import task_database, task_settings
from workers.idempotency import run_idempotently

EMBEDDED_SCHEME = "sqla+"


@worker_task(bind=True, name="workers.maintenance.purge_used_conversation_tokens")
def purge_used_conversation_tokens(self: Any, idempotency_key: str | None = None) -> dict[str, Any]:
    """Delete used conversation tokens past their expiry; returns ``{"deleted": <count>}``."""
    return run_idempotently(
        self,
        lambda session: {"deleted": delete_expired_conversation_tokens(session, utc_now())},
        key=idempotency_key,
    )


# Delivered messages the embedded broker keeps are deleted once they are this old.
DELIVERED_MESSAGE_AGE_S = 3600.0


@worker_task(bind=True, name="workers.maintenance.purge_delivered_broker_messages")
def purge_delivered_broker_messages(
    self: Any, older_than_s: float = DELIVERED_MESSAGE_AGE_S
) -> dict[str, Any]:
    """On the embedded broker, delete messages delivered more than `older_than_s` ago.

    kombu's SQLAlchemy transport marks a delivered message invisible and never deletes it, so
    with the dialer ticking every few seconds its file would grow without end. It has no
    visibility timeout, so an invisible message is never delivered again: deleting it loses
    nothing. On Redis, delivered messages are gone already: nothing to do.
    """
    url = str(self.app.conf.broker_url)
    if not url.startswith(EMBEDDED_SCHEME):
        return {"deleted": 0}
    return {"deleted": delete_delivered_messages(url.removeprefix(EMBEDDED_SCHEME), older_than_s)}


@worker_task(bind=True, name="workers.maintenance.apply_retention")
def apply_retention(self: Any) -> dict[str, Any]:
    """Delete the calls and recordings their agents keep no longer; returns how many."""
    settings = task_settings(self.app)
    run = apply_call_retention(
        task_database(self.app), settings.resolved_recordings_dir(), utc_now()
    )
    return {"calls_deleted": run.calls_deleted, "recordings_deleted": run.recordings_deleted}
