"""How campaign calls end: each attempt's outcome, the lead's next step (a retry, a call back,
finished, the do-not-call list), and the repair of dials and calls whose end was never heard.

Called by the dialer's tick and dial tasks, the post-call analysis (a better outcome than
`completed`) and the batch-calling API (retry the unreached), inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.db import analyses, do_not_call
from app.db import call_attempts as attempt_rows
from app.db import campaigns as rows
from app.db.calls import TERMINAL_TWILIO_STATUSES
from app.db.models import CallAttempt, Campaign, CampaignLead, utc_now
from app.outbound import field_leads
from app.outbound.campaign_settings import settings_of
from campaigns.outcomes import Outcome, UnknownCallStatusError, outcome_from_twilio
from campaigns.retries import next_attempt
from campaigns.states import CampaignState, reopen

# A conversation that ended this long ago without Twilio's final status is taken as over.
FINAL_STATUS_WAIT = timedelta(minutes=2)
# A call still on after this long never reported its end (its callbacks were lost).
NO_END_REPORTED = timedelta(hours=6)
NO_END_DETAIL = "Twilio never reported the end of this call; the lead is not dialed again"
INTERRUPTED_DIAL = (
    "the dial was interrupted after its conversation was recorded: Twilio may have placed the "
    "call, so the lead is not dialed again"
)
# Outcomes after which a batch "retry" dials the lead again: nobody was reached.
UNREACHED_OUTCOMES = frozenset(
    o.value
    for o in (
        Outcome.NO_ANSWER,
        Outcome.BUSY,
        Outcome.FAILED,
        Outcome.CANCELED,
        Outcome.VOICEMAIL,
        Outcome.ANSWERED_BY_MACHINE,
    )
)


def end_attempt(
    session: Session, attempt: CallAttempt, outcome: Outcome, now: datetime, *, detail: str = ""
) -> None:
    """End `attempt` with `outcome`, then schedule the lead's retry or finish it (a "remove me"
    puts the number on the do-not-call list). Ending an ended attempt changes nothing."""
    attempt_id, lead_id, campaign_id = attempt.id, attempt.lead_id, attempt.campaign_id
    conversation_id = attempt.conversation_id
    history = [Outcome(o) for o in attempt_rows.earlier_outcomes(session, attempt)]
    if not attempt_rows.close_attempt(session, attempt_id, outcome.value, detail, attempt.call_sid):
        return  # ended by someone else first
    call_back_at = None
    if outcome is Outcome.COMPLETED:
        # Read after the close, which holds the attempt's row: an analysis that finished first
        # is seen here; one that finishes later sees the attempt ended (`refine_outcome`).
        analysed = analyses.finding_of(session, conversation_id)
        if analysed is not None and Outcome(analysed.outcome).reached_a_person:
            outcome = Outcome(analysed.outcome)
            call_back_at = analysed.call_back_at
            attempt_rows.set_attempt_outcome(session, attempt_id, outcome.value)
    _decide_next(
        session, lead_id, campaign_id, attempt_id, history, outcome, now, call_back_at=call_back_at
    )


def _decide_next(
    session: Session,
    lead_id: str,
    campaign_id: str,
    attempt_id: str,
    history: list[Outcome],
    outcome: Outcome,
    now: datetime,
    *,
    call_back_at: datetime | None = None,
) -> None:
    lead = rows.lead_by_id(session, lead_id)
    campaign = rows.campaign_by_id(session, campaign_id)
    lead.last_outcome = outcome.value
    if outcome is Outcome.CALL_BACK and call_back_at is not None:
        conversation_id = attempt_rows.attempt_by_id(session, attempt_id).conversation_id
        if field_leads.hand_call_back_to_owner(session, lead, call_back_at, conversation_id, now):
            session.flush()
            return
    decision = next_attempt(
        history, outcome, now, settings_of(campaign).retry_policy(), call_back_at=call_back_at
    )
    if decision.is_final:
        _finish(lead, decision.reason)
    else:
        lead.status = "pending"
        lead.due_at = decision.retry_at
    if decision.add_to_do_not_call:
        do_not_call.add_do_not_call(
            session, campaign.organization_id, lead.phone_number, source="call", note=attempt_id
        )
    session.flush()


def refine_outcome(
    session: Session,
    conversation_id: str,
    outcome: Outcome,
    now: datetime,
    *,
    call_back_at: datetime | None = None,
) -> bool:
    """The analysis of a campaign call found what the person said (meeting booked, call back,
    "remove me"...): it replaces the provisional `completed` of the call's attempt, and the
    lead's next step is decided again (a call back is scheduled at `call_back_at` when the
    person named a time — on the owner's list if the lead has one —, a "remove me" is listed). An
    attempt not ended yet takes the analysis' outcome when it ends (`end_attempt`). Returns
    whether an attempt was refined."""
    attempt = attempt_rows.lock_attempt_of_conversation(session, conversation_id)
    if attempt is None or attempt.status != "ended":
        return False
    if attempt.outcome != Outcome.COMPLETED.value or outcome is Outcome.COMPLETED:
        return False
    if not outcome.reached_a_person:
        return False
    history = [Outcome(o) for o in attempt_rows.earlier_outcomes(session, attempt)]
    attempt_id, lead_id, campaign_id = attempt.id, attempt.lead_id, attempt.campaign_id
    # The campaign is locked before the lead is looked at, so a tick cannot claim the lead or
    # complete the campaign meanwhile (a tick skips a locked campaign).
    campaign = rows.get_campaign_for_update(session, attempt.organization_id, campaign_id)
    lead = rows.lead_by_id(session, lead_id)
    attempt_rows.set_attempt_outcome(session, attempt_id, outcome.value)
    if lead.status == "calling" or lead.attempts_made != attempt.number:
        # A later attempt has begun (a retry rule for `completed`): it decides the lead now;
        # this one only records what was said, and a "remove me" still lists the number.
        if outcome.adds_to_do_not_call:
            do_not_call.add_do_not_call(
                session, lead.organization_id, lead.phone_number, source="call", note=attempt_id
            )
        session.flush()
        return True
    _decide_next(
        session, lead_id, campaign_id, attempt_id, history, outcome, now, call_back_at=call_back_at
    )
    lead = rows.lead_by_id(session, lead_id)
    if (
        campaign is not None
        and lead.status == "pending"
        and campaign.state == CampaignState.COMPLETED.value
        and _window_still_open(campaign, now)
    ):
        # Reopened for the call back; it completes again (and says so again) when done.
        campaign.state = reopen(CampaignState.COMPLETED).value
        campaign.completed_at = None
    session.flush()
    return True


def _window_still_open(campaign: Campaign, now: datetime) -> bool:
    ends_at = settings_of(campaign).ends_at
    return ends_at is None or now < ends_at


def settle_ended_calls(session: Session, now: datetime) -> int:
    """End the attempts whose call is over, with the outcome Twilio's status and answering
    verdict give. A conversation that ended without Twilio's final status is taken as over
    once `FINAL_STATUS_WAIT` has passed. Returns how many attempts were ended."""
    ended = 0
    for attempt, call in attempt_rows.attempts_whose_call_ended(session):
        status = call.provider_status or ""
        if status not in TERMINAL_TWILIO_STATUSES:
            if call.ended_at is None or now - call.ended_at < FINAL_STATUS_WAIT:
                continue
            status = "completed" if call.started_at is not None else "failed"
        campaign = rows.campaign_by_id(session, attempt.campaign_id)
        voicemail = settings_of(campaign).voicemail_behaviour()
        try:
            outcome = outcome_from_twilio(status, call.answered_by, voicemail)
        except UnknownCallStatusError:
            continue
        if outcome is None:
            continue
        attempt.call_sid = attempt.call_sid or call.provider_call_sid
        end_attempt(session, attempt, outcome, now, detail=f"twilio call status: {status}")
        ended += 1
    for attempt in attempt_rows.attempts_dialed_before(session, utc_now() - NO_END_REPORTED):
        end_without_redial(session, attempt, NO_END_DETAIL)
        ended += 1
    return ended


def recover_interrupted_dials(session: Session, dead_before: datetime) -> list[str]:
    """Mend attempts whose dial began before `dead_before` and never finished (its worker died).

    Without a conversation on record Twilio was never asked: the attempt is claimed again and
    returned, to be sent again. With one whose CallSid is known (from Twilio's reply or its
    callbacks) the call was placed: the attempt is dialed. With one without a CallSid, Twilio
    may or may not have placed it: the attempt ends and the lead is not dialed again.
    """
    resend: list[str] = []
    for attempt, call in attempt_rows.attempts_dialing_since_before(session, dead_before):
        if call is None:
            attempt.status = "claimed"
            resend.append(attempt.id)
        elif call.provider_call_sid:
            attempt.status = "dialed"
            attempt.call_sid = call.provider_call_sid
        else:
            end_without_redial(session, attempt, INTERRUPTED_DIAL)
    session.flush()
    return resend


def retry_unreached(session: Session, campaign: Campaign) -> int:
    """Queue again the leads that were not reached (no answer, busy, failed, voicemail...) and
    run the campaign again if it had completed. Returns how many leads were queued."""
    leads = rows.finished_leads_with_outcomes(session, campaign.id, UNREACHED_OUTCOMES)
    for lead in leads:
        lead.status = "pending"
        lead.due_at = None
        lead.finished_reason = ""
    if leads and campaign.state == CampaignState.COMPLETED.value:
        campaign.state = reopen(CampaignState.COMPLETED).value
        campaign.completed_at = None
    session.flush()
    return len(leads)


def end_without_redial(session: Session, attempt: CallAttempt, detail: str) -> None:
    """End an attempt as failed and finish its lead: Twilio may have placed that call."""
    lead_id = attempt.lead_id
    if attempt_rows.close_attempt(
        session, attempt.id, Outcome.FAILED.value, detail, attempt.call_sid
    ):
        lead = rows.lead_by_id(session, lead_id)
        lead.last_outcome = Outcome.FAILED.value
        _finish(lead, detail)
        session.flush()


def _finish(lead: CampaignLead, reason: str) -> None:
    lead.status = "finished"
    lead.finished_reason = reason
    lead.due_at = None
