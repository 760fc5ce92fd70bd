"""Running campaigns: the domain's decisions (campaigns/) applied to the campaign rows (app/db).

The dialer's tick and dial tasks (workers/dialer.py) and the campaign APIs call these; each
function works inside the caller's transaction. How this keeps every lead dialed once through
crashes and concurrent workers is told in workers/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.db import call_attempts as attempt_rows
from app.db import campaigns as rows
from app.db import do_not_call
from app.db.models import Campaign, utc_now
from app.db.webhooks import enqueue_event
from app.observability.metrics import CAMPAIGN_DIALS_HELD
from app.outbound.calls import MachineDetection, OutboundCall
from app.outbound.campaign_outcomes import end_attempt, end_without_redial
from app.outbound.campaign_settings import settings_of
from campaigns.campaign import Campaign as CampaignPlan
from campaigns.eligibility import LeadDialState, Verdict, dial_decision
from campaigns.outcomes import Outcome
from campaigns.pacing import pace_attempts
from campaigns.states import CampaignProgress, CampaignState, is_complete, transition

# Leads looked at per tick and campaign beyond the ones that may be dialed now: leads that turn
# out to be waiting or skipped are set aside for later without a second query.
LOOK_AHEAD = 200
UNCERTAIN_DIAL = "Twilio may have placed the call, so the lead is not dialed again"


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

    def outbound_call(self) -> OutboundCall:
        """The call to place: the campaign's answering-machine rule, the lead's variables."""
        return OutboundCall(
            organization_id=self.organization_id,
            agent_id=self.agent_id,
            phone_number_id=self.phone_number_id,
            to_number=self.to_number,
            dynamic_variables=self.variables,
            machine_detection=MachineDetection(
                mode="enable" if self.voicemail_hang_up else "detect_message_end",
                hang_up_on=MACHINE_VERDICTS if self.voicemail_hang_up else frozenset({"fax"}),
                voicemail_message=None if self.voicemail_hang_up else self.voicemail_message,
            ),
            conversation_id=self.conversation_id,
        )


# Verdicts on which a campaign that does not leave voicemail hangs up.
MACHINE_VERDICTS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


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


def tick_campaign(
    session: Session, campaign_id: str, now: datetime, *, organization_cap: int | None = None
) -> TickResult:
    """Claim the attempts `campaign_id` may start at `now`; complete it if nothing is left.
    With `organization_cap`, the organization's campaigns together have at most that many
    attempts in flight: this one claims no more than the room left."""
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
        may_start = pace.may_start
        if may_start and organization_cap is not None:
            in_flight = rows.count_organization_active_attempts(session, campaign.organization_id)
            room = max(0, organization_cap - in_flight)
            if room < may_start:
                CAMPAIGN_DIALS_HELD.inc(may_start - room)
                may_start = room
        if may_start:
            _claim(session, campaign, plan, may_start, now, result)
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


def begin_dial(
    session: Session, attempt_id: str, *, asked_by_a_person: bool = False
) -> DialOrder | None:
    """Take the attempt from `claimed` to `dialing`; None if it is not `claimed` any more (this
    is a repeated delivery, or the campaign stopped). A dial a person asked for (a field agent
    calling their lead now) goes ahead whatever the campaign's state. The caller commits before
    dialing."""
    attempt = attempt_rows.take_claimed_attempt(session, attempt_id)
    if attempt is None:
        return None
    campaign = rows.campaign_by_id(session, attempt.campaign_id)
    lead = rows.lead_by_id(session, attempt.lead_id)
    if campaign.state != CampaignState.RUNNING.value and not asked_by_a_person:
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
        end_without_redial(session, attempt, f"{error}; {UNCERTAIN_DIAL}")
        return
    end_attempt(session, attempt, Outcome.FAILED, now, detail=error or "dial failed")
