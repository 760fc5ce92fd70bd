"""A table used as a work queue, claimed row by row under a lease.

A row is due when it is `pending`, or held past its lease (its worker died), and its due time
has come. Claiming it selects the oldest due row (`FOR UPDATE SKIP LOCKED` where the database has
it) and then takes it with a conditional update on its attempt count and status: the update
matches one row for exactly one worker, so two workers never hold one row, on PostgreSQL or
SQLite. The winner's claim names the attempt it holds; later writes check it (`held_by`), so a
worker whose lease ran out cannot overwrite the next one's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session


@dataclass(frozen=True, slots=True)
class LeasedQueue:
    model: type[Any]
    key: InstrumentedAttribute[str]
    status: InstrumentedAttribute[str]
    attempts: InstrumentedAttribute[int]
    due_at: InstrumentedAttribute[datetime]
    held: str  # the status of a claimed row

    def held_by(self, key: str, attempt: int) -> ColumnElement[bool]:
        """The row, if the worker that made claim number `attempt` still holds it."""
        return (self.key == key) & (self.attempts == attempt) & (self.status == self.held)


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    attempt: int  # 1 for the first try


def claim_next(
    session: Session,
    queue: LeasedQueue,
    now: datetime,
    lease: timedelta,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    join: tuple[type[Any], ColumnElement[bool]] | None = None,
) -> Claim | None:
    """Take the oldest due row for this worker until `now + lease`; None if none is due or
    another worker took it first. `where` narrows the due rows (through `join`'s table)."""
    due = queue.status.in_(("pending", queue.held))
    query = select(queue.key, queue.attempts, queue.status)
    if join is not None:
        query = query.join(*join)
    row = session.execute(
        query.where(due, queue.due_at <= now, *where)
        .order_by(queue.due_at)
        .limit(1)
        .with_for_update(of=queue.model, skip_locked=True)
    ).first()
    if row is None:
        return None
    key, attempts, status = row
    taken = session.execute(
        update(queue.model)
        .where(queue.key == key, queue.attempts == attempts, queue.status == status)
        .values({queue.status: queue.held, queue.attempts: attempts + 1, queue.due_at: now + lease})
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    return Claim(key, attempts + 1)
