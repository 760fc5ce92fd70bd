"""Call analyses: queued in the transaction that stores a finished call, taken by the analysis
worker one at a time, written back with their results (workers/analysis.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from app.db import leases
from app.db.leases import LeasedQueue
from app.db.models import Agent, Call, CallAnalysis, CallEvent, utc_now


def queue_analysis(session: Session, call: Call) -> None:
    """Queue `call` for analysis, once: saving the call again does not analyse it again."""
    if session.get(CallAnalysis, call.id) is None:
        session.add(
            CallAnalysis(
                call_id=call.id,
                organization_id=call.organization_id,
                status="pending",
                attempts=0,
                due_at=utc_now(),
            )
        )
        session.flush()


@dataclass(frozen=True, slots=True)
class ClaimedAnalysis:
    call_id: str
    attempt: int


ANALYSES = LeasedQueue(
    CallAnalysis,
    key=CallAnalysis.call_id,
    status=CallAnalysis.status,
    attempts=CallAnalysis.attempts,
    due_at=CallAnalysis.due_at,
    held="running",
)


def claim_next(session: Session, now: datetime, lease: timedelta) -> ClaimedAnalysis | None:
    """Take the next due analysis: it is `running` for this worker until `now + lease` (then due
    again, should the worker die); see `app.db.leases`."""
    claim = leases.claim_next(session, ANALYSES, now, lease)
    return None if claim is None else ClaimedAnalysis(claim.key, claim.attempt)


def call_to_analyze(session: Session, call_id: str) -> tuple[Call, Agent, list[str]]:
    """The call with its turns, its agent, and the kinds of its events in order."""
    call = session.scalars(
        select(Call).where(Call.id == call_id).options(selectinload(Call.turns))
    ).one()
    agent = session.scalars(select(Agent).where(Agent.id == call.agent_id)).one()
    kinds = list(
        session.scalars(
            select(CallEvent.kind).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
        )
    )
    return call, agent, kinds


def store_result(
    session: Session, claimed: ClaimedAnalysis, *, status: str, values: dict[str, Any]
) -> bool:
    """Write the analysis (`status` done or failed) if this worker still holds it."""
    done = session.execute(
        update(CallAnalysis)
        .where(ANALYSES.held_by(claimed.call_id, claimed.attempt))
        .values(status=status, completed_at=utc_now(), **values)
    )
    session.expire_all()
    return getattr(done, "rowcount", 0) == 1


def retry_later(
    session: Session, claimed: ClaimedAnalysis, *, error: str, retry_at: datetime
) -> None:
    """This try failed: due again at `retry_at`, if this worker still holds it."""
    session.execute(
        update(CallAnalysis)
        .where(ANALYSES.held_by(claimed.call_id, claimed.attempt))
        .values(status="pending", due_at=retry_at, last_error=error[:2000])
    )


def analysis_of(session: Session, call_id: str) -> CallAnalysis | None:
    return session.get(CallAnalysis, call_id)


@dataclass(frozen=True, slots=True)
class Finding:
    """What a finished analysis found about a call's end."""

    outcome: str
    call_back_at: datetime | None


def finding_of(session: Session, call_id: str) -> Finding | None:
    """The outcome (and call-back time) a finished analysis gave the call, if it has one yet."""
    row = session.execute(
        select(CallAnalysis.outcome, CallAnalysis.call_back_at).where(
            CallAnalysis.call_id == call_id, CallAnalysis.status.in_(("done", "failed"))
        )
    ).first()
    if row is None or row.outcome is None:
        return None
    return Finding(row.outcome, row.call_back_at)
