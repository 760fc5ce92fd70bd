"""The campaign dialer: beat's tick claims the attempts that may start, one task dials each.

A tick walks the running campaigns; for each it locks the campaign row (skipping one another
worker holds), asks the domain which leads to dial within the pace, and claims them as attempts
in one transaction; only then are the dial tasks sent. A dial takes its attempt from `claimed`
to `dialing` by a conditional update and commits that before Twilio is asked, so a redelivered
dial finds the attempt taken and does nothing. What a crash leaves half done, the tick mends:
a claim whose dial task was never sent is sent again; a dial that died before recording its
conversation is claimed again (Twilio cannot have been asked); one that died after is not
dialed again, since Twilio may have placed the call (see `recover_interrupted_dials`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from app.db import call_attempts as attempt_rows
from app.db.models import utc_now
from app.db.session import Database
from app.outbound import campaign_outcomes, campaign_runs
from app.outbound.calls import (
    OutboundCallError,
    PlacedOutboundCall,
)
from telephony.dialers import place_campaign_call
from telephony.sip.dial_queue import expire_queued_dials
from workers.celery_app import worker_task
from workers.database import task_database, task_settings

log = logging.getLogger(__name__)

DIAL_TASK = "workers.dialer.dial"
# A claim this old whose dial task was never queued (its tick died first): queue it now.
UNSENT_CLAIM_S = 30.0
# A dial task queued this long ago whose attempt has still not begun was lost (the embedded
# broker keeps a message taken by a killed worker): it is queued again. Far longer than a
# backlog of dials takes to drain, so a long queue is not queued twice.
LOST_DIAL_TASK_S = 900.0


def _now(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else utc_now()


@worker_task(bind=True, name="workers.dialer.tick", time_limit=120, soft_time_limit=100)
def tick(self: Any, now: str | None = None) -> dict[str, Any]:
    """One pass of the dialer over every running campaign, at `now` (ISO; default: the clock).

    First the attempts whose call is over are ended (outcome, retry). Returns what it did:
    attempts ended, claimed and sent, leads set aside, campaigns completed.
    """
    at = _now(now)
    database = task_database(self.app)
    settings = task_settings(self.app)
    expire_queued_dials(database)  # SIP dials no node took: failed, then settled below
    with database.session() as session:
        campaign_ids = campaign_runs.campaigns_to_tick(session, at)
        ended = campaign_outcomes.settle_ended_calls(session, at)  # frees their places first
    claimed: list[str] = []
    skipped = waiting = 0
    completed: list[str] = []
    locked: list[str] = []
    for campaign_id in campaign_ids:
        try:
            with database.session() as session:  # one transaction, and one lock, per campaign
                result = campaign_runs.tick_campaign(
                    session,
                    campaign_id,
                    at,
                    organization_cap=settings.max_campaign_calls_per_organization,
                )
            _send(database, result.claimed)  # at once: a tick killed later loses none of them
        except SoftTimeLimitExceeded:
            raise  # out of time: the claims not sent yet are sent again by a later tick
        except Exception:  # one campaign's fault must not stop the others
            log.exception("the dialer could not tick campaign %s", campaign_id)
            continue
        claimed += result.claimed
        if result.locked:
            locked.append(campaign_id)
        skipped += result.skipped
        waiting += result.waiting
        if result.completed:
            completed.append(campaign_id)
    with database.session() as session:
        just_claimed = set(claimed)
        lost = [
            attempt_id
            for attempt_id in attempt_rows.unsent_claims(
                session,
                at - timedelta(seconds=UNSENT_CLAIM_S),
                utc_now() - timedelta(seconds=LOST_DIAL_TASK_S),
            )
            if attempt_id not in just_claimed
        ]
        # By the real clock, whatever `now` the tick was given: this is about dead processes.
        dead_before = utc_now() - timedelta(seconds=settings.dial_time_limit_s * 2 + 5)
        recovered = campaign_outcomes.recover_interrupted_dials(session, dead_before)
    resend = lost + recovered
    _send(database, resend)
    return {
        "ended": ended,
        "claimed": claimed,
        "resent": resend,
        "skipped": skipped,
        "waiting": waiting,
        "completed": completed,
        "locked": locked,  # ticked by another worker at the same time
        "worker_pid": os.getpid(),
    }


def _send(database: Database, attempt_ids: list[str]) -> None:
    """Queue the dial tasks of these claims, then record that they are queued."""
    if not attempt_ids:
        return
    for attempt_id in attempt_ids:
        dial.apply_async((attempt_id,))
    with database.session() as session:
        attempt_rows.mark_sent(session, attempt_ids, utc_now())


@worker_task(bind=True, name=DIAL_TASK)  # time limit: settings.dial_time_limit_s
def dial(self: Any, attempt_id: str) -> dict[str, Any]:
    """Place the call of one claimed attempt, once however often this task is delivered."""
    database = task_database(self.app)
    settings = task_settings(self.app)
    with database.session() as session:  # committed before Twilio is asked
        order = campaign_runs.begin_dial(session, attempt_id)
    if order is None:
        return {"attempt_id": attempt_id, "dialed": False}
    try:
        placed = asyncio.run(place_campaign_call(database, settings, order.outbound_call()))
    except OutboundCallError as error:
        placed = PlacedOutboundCall(order.conversation_id, None, str(error))
    with database.session() as session:
        campaign_runs.record_dial(
            session,
            attempt_id,
            placed.call_sid,
            placed.error,
            utc_now(),
            uncertain=placed.uncertain,
        )
    if placed.call_sid is None:
        log.warning("attempt %s was not dialed: %s", attempt_id, placed.error)
    return {"attempt_id": attempt_id, "dialed": placed.call_sid is not None, "error": placed.error}
