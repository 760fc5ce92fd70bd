"""Telling people what is due: beat runs the sender of due call backs' Web Push messages."""

from __future__ import annotations

from typing import Any

from app.db.models import utc_now
from app.outbound.callback_alerts import send_due_callback_alerts
from workers.celery_app import worker_task
from workers.database import task_database, task_settings


@worker_task(bind=True, name="workers.notifications.notify_due_callbacks")
def notify_due_callbacks(self: Any) -> dict[str, Any]:
    """Push each call back that fell due to its owner's devices, once."""
    run = send_due_callback_alerts(task_database(self.app), task_settings(self.app), utc_now())
    return {
        "callbacks": run.callbacks,
        "sent": run.sent,
        "failed": run.failed,
        "subscriptions_removed": run.subscriptions_removed,
    }
