"""Running campaigns: the domain's decisions (campaigns/) applied to the campaign rows (app/db).

The dialer's tick and dial tasks (workers/dialer.py) and the campaign APIs call these; each
function works inside the caller's transaction. How this keeps every lead dialed once through
crashes and concurrent workers is told in workers/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.campaign_settings import CampaignSettings
from app.db import analyses, do_not_call
from app.db import call_attempts as attempt_rows
from app.db import campaigns as rows
from app.db.calls import TERMINAL_TWILIO_STATUSES
from app.db.models import CallAttempt, Campaign, CampaignLead, utc_now
from app.db.webhooks import enqueue_event
from campaigns.campaign import Campaign as CampaignPlan
from campaigns.eligibility import LeadDialState, Verdict, dial_decision
from campaigns.outcomes import Outcome, UnknownCallStatusError, outcome_from_twilio
from campaigns.pacing import pace_attempts
from campaigns.retries import next_attempt
from campaigns.states import CampaignProgress, CampaignState, is_complete, reopen, transition

# Leads looked at per tick and campaign beyond the ones that may be dialed now: leads that turn
# out to be waiting or skipped are set aside for later without a second query.
LOOK_AHEAD = 200
# A conversation that ended this long ago without Twilio's final status is taken as over.
FINAL_STATUS_WAIT = timedelta(minutes=2)
UNCERTAIN_DIAL = "Twilio may have placed the call, so the lead is not dialed again"
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


class CampaignStateError(ValueError):
    """A state change the campaign's life cycle does not allow."""


@dataclass
class TickResult:
    """What one tick did to one campaign."""

    campaign_id: str
    claimed: list[str] = field(default_factory=list)
    skipped: int = 0
    waiting: int = 0
    completed: bool = False
    locked: bool = False  # another worker was ticking it


@dataclass(frozen=True, slots=True)
class DialOrder:
    """An attempt whose dial this delivery owns: everything the dial needs."""

    attempt_id: str
    organization_id: str
    agent_id: str
    phone_number_id: str
    to_number: str
    conversation_id: str
    variables: dict[str, str]
    voicemail_hang_up: bool
    voicemail_message: str | None = None


def settings_of(campaign: Campaign) -> CampaignSettings:
    return CampaignSettings.model_validate(campaign.settings)


def plan_of(session: Session, campaign: Campaign) -> CampaignPlan:
    """The domain campaign the dialer decides with."""
    settings = settings_of(campaign)
    return settings.campaign(
        campaign.agent_id, rows.caller_id_of(session, campaign), campaign.state
    )


def change_state(session: Session, campaign: Campaign, target: CampaignState) -> None:
    """Move the campaign to `target` if its life cycle allows it, else `CampaignStateError`."""
    try:
        campaign.state = transition(CampaignState(campaign.state), target).value
    except ValueError as error:
        raise CampaignStateError(str(error)) from None
    if target in (CampaignState.COMPLETED, CampaignState.CANCELLED):
        campaign.completed_at = utc_now()
    session.flush()


def campaigns_to_tick(session: Session, now: datetime) -> list[str]:
    """Running and paused campaigns, after starting the scheduled ones whose start has come."""
    scheduled, running = CampaignState.SCHEDULED.value, CampaignState.RUNNING.value
    for campaign in rows.campaigns_in_states(session, [scheduled]):
        starts_at = settings_of(campaign).starts_at
        if starts_at is None or starts_at <= now:
            rows.start_scheduled(session, campaign.id, running, scheduled)
    states = [CampaignState.RUNNING.value, CampaignState.PAUSED.value]
    return [campaign.id for campaign in rows.campaigns_in_states(session, states)]


def tick_campaign(session: Session, campaign_id: str, now: datetime) -> TickResult:
    """Claim the attempts `campaign_id` may start at `now`; complete it if nothing is left."""
    result = TickResult(campaign_id)
    campaign = rows.lock_campaign(session, campaign_id)
    if campaign is None:
        result.locked = True
        return result
    plan = plan_of(session, campaign)
    active = rows.count_active_attempts(session, campaign.id)
    if plan.state is CampaignState.RUNNING:
        recent = rows.claim_times_since(session, campaign.id, now - timedelta(minutes=1))
        pace = pace_attempts(plan.pace, calls_in_progress=active, recent_starts=recent, now=now)
        if pace.may_start:
            _claim(session, campaign, plan, pace.may_start, now, result)
    pending = rows.count_pending_leads(session, campaign.id)
    progress = CampaignProgress(pending, active + len(result.claimed))
    if is_complete(plan.state, progress, now, plan.windows.ends_at):
        change_state(session, campaign, CampaignState.COMPLETED)
        counts = rows.progress(session, campaign.id)
        enqueue_event(
            session,
            campaign.organization_id,
            "campaign_completed",
            {
                "campaign_id": campaign.id,
                "name": campaign.name,
                "agent_id": campaign.agent_id,
                "leads": counts.leads,
                "attempts": counts.attempts,
                "outcomes": counts.outcomes,
            },
        )
        result.completed = True
    return result


def _claim(
    session: Session,
    campaign: Campaign,
    plan: CampaignPlan,
    may_start: int,
    now: datetime,
    result: TickResult,
) -> None:
    leads = rows.due_leads(session, campaign.id, now, may_start + LOOK_AHEAD)
    blocked = do_not_call.do_not_call_among(
        session, campaign.organization_id, (lead.phone_number for lead in leads)
    )
    for lead in leads:
        if len(result.claimed) >= may_start:
            break
        state = LeadDialState(
            phone_number=lead.phone_number,
            time_zone=lead.time_zone,
            attempts_made=lead.attempts_made,
            attempt_in_progress=False,
            due_at=lead.due_at,
        )
        decision = dial_decision(plan, state, blocked, now)
        if decision.verdict is Verdict.SKIP:
            lead.status = "finished"
            lead.finished_reason = decision.detail or str(decision.reason)
            if lead.phone_number in blocked:
                lead.last_outcome = Outcome.DO_NOT_CALL.value
            result.skipped += 1
        elif decision.verdict is Verdict.WAIT:
            lead.due_at = decision.look_again_at
            result.waiting += 1
        else:
            result.claimed.append(attempt_rows.add_attempt(session, campaign, lead, now).id)
    session.flush()


def begin_dial(session: Session, attempt_id: str) -> DialOrder | None:
    """Take the attempt from `claimed` to `dialing`; None if it is not `claimed` any more (this
    is a repeated delivery, or the campaign stopped). The caller commits before dialing."""
    attempt = attempt_rows.take_claimed_attempt(session, attempt_id)
    if attempt is None:
        return None
    campaign = rows.campaign_by_id(session, attempt.campaign_id)
    lead = rows.lead_by_id(session, attempt.lead_id)
    if campaign.state != CampaignState.RUNNING.value:
        # Paused or stopped before the dial began: as if never claimed.
        attempt_rows.delete_attempt(session, attempt)
        lead.status = "pending"
        lead.attempts_made -= 1
        session.flush()
        return None
    return DialOrder(
        attempt_id=attempt.id,
        organization_id=attempt.organization_id,
        agent_id=campaign.agent_id,
        phone_number_id=campaign.phone_number_id,
        to_number=lead.phone_number,
        conversation_id=attempt.conversation_id,
        variables={str(k): str(v) for k, v in lead.variables.items()},
        voicemail_hang_up=settings_of(campaign).voicemail.action == "hang_up",
        voicemail_message=settings_of(campaign).voicemail.message,
    )


def record_dial(
    session: Session,
    attempt_id: str,
    call_sid: str | None,
    error: str | None,
    now: datetime,
    *,
    uncertain: bool = False,
) -> None:
    """Store the dial's result: dialed with its CallSid, or ended as failed (and retried as the
    campaign's policy says; never when Twilio may have placed the call after all). An attempt
    its call's end already ended meanwhile stays as it is."""
    if call_sid is not None:
        attempt_rows.mark_dialed(session, attempt_id, call_sid)
        return
    attempt = attempt_rows.attempt_by_id(session, attempt_id)
    if uncertain:
        _end_without_redial(session, attempt, f"{error}; {UNCERTAIN_DIAL}")
        return
    end_attempt(session, attempt, Outcome.FAILED, now, detail=error or "dial failed")


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
    if outcome is Outcome.COMPLETED:
        # Read after the close, which holds the attempt's row: an analysis that finished first
        # is seen here; one that finishes later sees the attempt ended (`refine_outcome`).
        analysed = analyses.outcome_of(session, conversation_id)
        if analysed is not None and Outcome(analysed).reached_a_person:
            outcome = Outcome(analysed)
            attempt_rows.set_attempt_outcome(session, attempt_id, outcome.value)
    _decide_next(session, lead_id, campaign_id, attempt_id, history, outcome, now)


def _decide_next(
    session: Session,
    lead_id: str,
    campaign_id: str,
    attempt_id: str,
    history: list[Outcome],
    outcome: Outcome,
    now: datetime,
) -> None:
    lead = rows.lead_by_id(session, lead_id)
    campaign = rows.campaign_by_id(session, campaign_id)
    decision = next_attempt(history, outcome, now, settings_of(campaign).retry_policy())
    lead.last_outcome = outcome.value
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


def refine_outcome(session: Session, conversation_id: str, outcome: Outcome, now: datetime) -> bool:
    """The analysis of a campaign call found what the person said (meeting booked, call back,
    "remove me"...): it replaces the provisional `completed` of the call's attempt, and the
    lead's next step is decided again (a call back is scheduled, a "remove me" is listed). An
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
    _decide_next(session, lead_id, campaign_id, attempt_id, history, outcome, now)
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
        _end_without_redial(session, attempt, NO_END_DETAIL)
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
            _end_without_redial(session, attempt, INTERRUPTED_DIAL)
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


def _end_without_redial(session: Session, attempt: CallAttempt, detail: str) -> None:
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
