"""Idempotency keys of worker tasks: a key is claimed with a lease and finished with its result.

The lease is a fence: only the holder of the current attempt can finish a key, so a worker that
outlived its lease cannot commit work that another worker has taken over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import TaskRun, utc_now

RUNNING = "running"
DONE = "done"


@dataclass(frozen=True, slots=True)
class Claim:
    """What claiming a key found: now held by the caller, finished before, or held elsewhere."""

    state: Literal["claimed", "done", "held"]
    attempt: int = 0
    result: dict[str, Any] | None = None
    lease_until: datetime | None = None


def claim_run(
    session: Session, key: str, task_name: str, lease_s: float, now: datetime | None = None
) -> Claim:
    """Claim ``key`` for ``lease_s`` seconds, taking it over if its last holder's lease ran out."""
    now = now or utc_now()
    lease_until = now + timedelta(seconds=lease_s)
    try:
        with session.begin_nested():
            session.execute(
                insert(TaskRun).values(
                    key=key,
                    task_name=task_name,
                    status=RUNNING,
                    attempts=1,
                    lease_until=lease_until,
                    started_at=now,
                )
            )
        return Claim("claimed", attempt=1, lease_until=lease_until)
    except IntegrityError:
        pass
    # A conditional update, so of two workers taking over the same expired lease only one wins.
    attempt = session.execute(
        update(TaskRun)
        .where(TaskRun.key == key, TaskRun.status == RUNNING, TaskRun.lease_until < now)
        .values(attempts=TaskRun.attempts + 1, lease_until=lease_until, started_at=now)
        .returning(TaskRun.attempts)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if attempt is not None:
        return Claim("claimed", attempt=attempt, lease_until=lease_until)
    run = session.get(TaskRun, key, populate_existing=True)
    if run is not None and run.status == DONE:
        return Claim("done", attempt=run.attempts, result=run.result)
    return Claim("held", lease_until=run.lease_until if run is not None else now)


def finish_run(
    session: Session, key: str, attempt: int, result: dict[str, Any], now: datetime | None = None
) -> bool:
    """Mark ``key`` done with ``result``; False if ``attempt`` no longer holds it."""
    finished = session.execute(
        update(TaskRun)
        .where(TaskRun.key == key, TaskRun.status == RUNNING, TaskRun.attempts == attempt)
        .values(status=DONE, result=result, finished_at=now or utc_now())
        .returning(TaskRun.key)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return finished is not None


def release_run(session: Session, key: str, attempt: int, now: datetime | None = None) -> None:
    """End ``attempt``'s lease at once (its work failed), so a retry need not wait for it."""
    session.execute(
        update(TaskRun)
        .where(TaskRun.key == key, TaskRun.status == RUNNING, TaskRun.attempts == attempt)
        .values(lease_until=now or utc_now())
        .execution_options(synchronize_session=False)
    )


def find_run(session: Session, key: str) -> TaskRun | None:
    """The run recorded for ``key``, if any."""
    return session.get(TaskRun, key)
