"""Idempotent tasks: a task's body, and the database writes it makes, happen once per key.

Tasks are acknowledged late, so a message whose worker died is delivered again; the key (the
task's id unless the caller names one, e.g. ``dial:<attempt id>``) makes the second delivery
return the first one's result. A claim is leased: when its worker died, the next delivery
takes it over once the lease has run out, and the dead worker's uncommitted writes are gone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery.exceptions import Ignore
from sqlalchemy.orm import Session

from app.db.models import utc_now
from app.db.session import Database
from app.db.task_runs import claim_run, finish_run, release_run
from workers.database import task_database

# A lease outlasts the task's hard time limit by this much: by then the pool has killed the
# task, so nobody still works on a key whose lease has run out.
LEASE_MARGIN_S = 30.0
# Shortest wait before a delivery that found its key held elsewhere tries again.
MIN_RETRY_S = 0.5

TaskBody = Callable[[Session], dict[str, Any]]


class KeyHeldError(Exception):
    """Another worker holds the key's lease: try again once it has run out."""

    def __init__(self, key: str, lease_until: datetime) -> None:
        super().__init__(f"task key {key!r} is held by another worker until {lease_until}")
        self.key = key
        self.lease_until = lease_until

    def retry_in_s(self) -> float:
        return max((self.lease_until - utc_now()).total_seconds(), MIN_RETRY_S)


class LeaseLostError(Exception):
    """The lease ran out while the body ran and another worker took the key over."""

    def __init__(self, key: str) -> None:
        super().__init__(f"task key {key!r} was taken over by another worker; its work is undone")
        self.key = key


def run_once(
    database: Database, key: str, task_name: str, lease_s: float, body: TaskBody
) -> dict[str, Any]:
    """Run ``body`` unless ``key`` is done already; its writes commit with the key's completion.

    Returns the body's result, or the stored one of the run that finished the key before.
    Raises ``KeyHeldError`` while another worker's lease on the key is live, and
    ``LeaseLostError`` (the body's writes rolled back) if the lease was taken over meanwhile.
    """
    with database.session() as session:
        claim = claim_run(session, key, task_name, lease_s)
    if claim.state == "done":
        return claim.result or {}
    if claim.state == "held":
        assert claim.lease_until is not None
        raise KeyHeldError(key, claim.lease_until)
    try:
        with database.session() as session:
            result = body(session)
            if not finish_run(session, key, claim.attempt, result):
                raise LeaseLostError(key)
    except LeaseLostError:
        raise
    except Exception:
        with database.session() as session:
            release_run(session, key, claim.attempt)
        raise
    return result


def lease_for(task: Any) -> float:
    """Seconds a run of ``task`` may hold its key: its hard time limit plus a margin."""
    time_limit = task.time_limit or task.app.conf.task_time_limit
    return float(time_limit) + LEASE_MARGIN_S


def run_idempotently(
    task: Any, body: TaskBody, key: str | None = None, lease_s: float | None = None
) -> dict[str, Any]:
    """Run ``body`` for a bound Celery ``task`` once per ``key`` (by default the task's id).

    A key held by a live worker retries the task after the lease; a lost lease ends this
    delivery quietly, since the worker that took the key over stores the task's result.
    """
    run_key = key or task.request.id
    lease = lease_s if lease_s is not None else lease_for(task)
    try:
        return run_once(task_database(task.app), run_key, task.name, lease, body)
    except KeyHeldError as held:
        raise task.retry(countdown=held.retry_in_s(), max_retries=None) from held
    except LeaseLostError as lost:
        raise Ignore(str(lost)) from lost
