"""The Celery app: Redis as broker and result store in production, SQLite files on one machine.

``make_celery(settings)`` builds it; ``celery -A workers.celery_app worker`` finds ``app`` here,
built from the environment on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from celery import Celery, shared_task
from celery.schedules import crontab
from kombu.entity import Exchange, Queue

from app.config.redaction import redact_log_records, remember_secrets
from app.settings import Settings, get_settings

# Modules whose tasks every worker registers.
TASK_MODULES = (
    "workers.maintenance",
    "workers.dialer",
    "workers.webhooks",
    "workers.analysis",
    "workers.notifications",
    "workers.knowledge",
)

# Declares a task of every app (celery's shared_task); celery has no type information, so this
# gives mypy a typed decorator.
worker_task: Callable[..., Callable[[Callable[..., Any]], Any]] = shared_task

# A task past the soft limit gets SoftTimeLimitExceeded to clean up; at the hard limit the pool
# kills it. No task may run longer, so an idempotency lease of this length plus a margin is safe.
# A task that lowers time_limit must lower soft_time_limit below it too, or Celery rejects it
# when it is redelivered.
TASK_SOFT_TIME_LIMIT_S = 240
TASK_TIME_LIMIT_S = 300
# Redis hands an unacknowledged message to another worker after this long: it must outlast the
# longest task (and any countdown), or a running task would be delivered twice.
VISIBILITY_TIMEOUT_S = 3600
# The embedded broker's file is written by the API, the worker and beat: a writer waits this
# long for the lock before failing.
EMBEDDED_LOCK_TIMEOUT_S = 30.0
# Post-call analysis runs a language model for seconds to minutes per call: it has a queue of
# its own, so a backlog of analyses never holds up the dialer's ticks and dials. A worker
# consumes both unless told otherwise (`velox worker --queues ...`).
DEFAULT_QUEUE = "celery"
ANALYSIS_QUEUE = "analysis"
# Knowledge-base indexing: minutes of CPU for a long document, so it never holds up the others.
KNOWLEDGE_QUEUE = "knowledge"
QUEUES = (DEFAULT_QUEUE, ANALYSIS_QUEUE, KNOWLEDGE_QUEUE)
# Results are kept this long, then removed by Celery's own clean-up.
RESULT_EXPIRES_S = 24 * 3600


@dataclass(frozen=True)
class PeriodicTask:
    """A task that beat sends on a schedule (seconds between runs, or a crontab)."""

    task: str
    every: float | crontab
    kwargs: dict[str, Any] | None = None

    def schedule_entry(self) -> dict[str, Any]:
        """The entry for Celery's ``beat_schedule``."""
        if isinstance(self.every, crontab):
            return {"task": self.task, "schedule": self.every, "kwargs": self.kwargs or {}}
        return {
            "task": self.task,
            "schedule": timedelta(seconds=self.every),
            "kwargs": self.kwargs or {},
            # A run still queued when the next one is due is stale: the next one replaces it.
            "options": {"expires": self.every},
        }


# How often beat looks for call backs that fell due (their owners are told by Web Push).
CALLBACK_POLL_S = 30.0


def periodic_tasks(settings: Settings) -> tuple[PeriodicTask, ...]:
    """What beat sends: hourly clean-ups; the campaign dialer's tick and webhook delivery every
    few seconds."""
    return (
        PeriodicTask("workers.maintenance.purge_used_conversation_tokens", every=3600.0),
        PeriodicTask("workers.maintenance.purge_delivered_broker_messages", every=3600.0),
        PeriodicTask("workers.maintenance.apply_retention", every=3600.0),
        PeriodicTask("workers.notifications.notify_due_callbacks", every=CALLBACK_POLL_S),
        PeriodicTask("workers.dialer.tick", every=settings.dialer_tick_s),
        PeriodicTask("workers.webhooks.deliver", every=settings.webhook_poll_s),
        PeriodicTask("workers.analysis.analyze", every=settings.analysis_poll_s),
        PeriodicTask("workers.knowledge.index_documents", every=settings.knowledge_index_poll_s),
    )


def beat_schedule(tasks: tuple[PeriodicTask, ...]) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule`` for ``tasks``, one entry named after each task."""
    return {task.task: task.schedule_entry() for task in tasks}


def is_embedded(settings: Settings) -> bool:
    """True when no broker is configured, so the SQLite broker under the data directory is used."""
    return not settings.broker_url


def broker_url(settings: Settings) -> str:
    """The configured broker, or kombu's SQLAlchemy transport on a SQLite file."""
    if settings.broker_url:
        return settings.broker_url
    return f"sqla+sqlite:///{settings.data_dir / 'broker.sqlite'}"


def result_backend(settings: Settings) -> str:
    """The configured result store, or Celery's database backend on a SQLite file."""
    if settings.result_backend:
        return settings.result_backend
    return f"db+sqlite:///{settings.data_dir / 'celery-results.sqlite'}"


def make_celery(settings: Settings) -> Celery:
    """A Celery app whose tasks survive a killed worker: acknowledged late, one at a time."""
    redact_log_records()  # before the worker forks: its children inherit it
    remember_secrets([settings.openai_api_key, settings.twilio_auth_token])
    # The embedded broker, the default result store and beat's schedule live in the data dir.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery = Celery("velox", include=list(TASK_MODULES))
    transport_options: dict[str, Any] = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
    if is_embedded(settings):
        # kombu hands these to SQLAlchemy's create_engine.
        transport_options = {"connect_args": {"timeout": EMBEDDED_LOCK_TIMEOUT_S}}
    celery.conf.update(
        broker_url=broker_url(settings),
        result_backend=result_backend(settings),
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        # Acknowledge after the task ran, and requeue it if its process died: a task is never
        # lost, and the idempotency keys (workers.idempotency) keep it from running twice.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        task_soft_time_limit=TASK_SOFT_TIME_LIMIT_S,
        task_time_limit=TASK_TIME_LIMIT_S,
        result_expires=RESULT_EXPIRES_S,
        beat_schedule=beat_schedule(periodic_tasks(settings)),
        task_default_queue=DEFAULT_QUEUE,
        task_queues=[_queue(name) for name in QUEUES],
        task_routes={
            "workers.analysis.analyze": {"queue": ANALYSIS_QUEUE},
            "workers.knowledge.index_documents": {"queue": KNOWLEDGE_QUEUE},
        },
        # A dial's limit is a setting: the tick mends a dial that outlived it (workers/dialer.py).
        task_annotations={
            "workers.dialer.dial": {
                "time_limit": settings.dial_time_limit_s,
                "soft_time_limit": max(1, settings.dial_time_limit_s * 5 // 6),
            }
        },
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        # Read by the tasks (workers.database): the service's own database and settings.
        velox_database_url=settings.resolved_database_url(),
        velox_settings=settings,
    )
    return celery


def _queue(name: str) -> Queue:
    """A queue on its own direct exchange, as Celery declares its default one."""
    return Queue(name, Exchange(name), routing_key=name)  # type: ignore[no-untyped-call]


@lru_cache(maxsize=1)
def _app_from_environment() -> Celery:
    return make_celery(get_settings())


def __getattr__(name: str) -> Celery:
    """``app``: the Celery app for the environment's settings, made on first use."""
    if name == "app":
        return _app_from_environment()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
