"""Field agents and their leads: assigning a lead, a call back handed to its owner, and the
outcome a field agent records after following a lead up.

A lead owned by a field agent is still dialed by its campaign. What a person on the lead's side
settles ends the dialing: when the lead asks the agent to be called back at a named time, the
call back goes on the owner's list and the dialer stops (one person calls back, not two); when
the owner records an outcome, the lead is finished for the dialer, its open call backs are done,
and a new call back is opened if the outcome is `call_back`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.db import call_attempts as attempt_rows
from app.db import do_not_call
from app.db import field_leads as rows
from app.db.models import Campaign, CampaignLead, LeadReport
from app.outbound.campaign_settings import settings_of
from campaigns.outcomes import Outcome
from campaigns.states import CampaignState
from campaigns.timezones import parse_time_zone, resolve_lead_time_zone

# What a field agent may record: what a person can say, never a carrier's result.
FIELD_OUTCOMES = tuple(outcome for outcome in Outcome if outcome.reached_a_person)
NOTE_MAX_CHARS = 4000
# A call back further out than this is taken for a typo.
CALL_BACK_HORIZON = timedelta(days=366)


class LeadBusyError(RuntimeError):
    """A call to the lead is in progress: its outcome is the call's to decide first."""


class InvalidLeadReportError(ValueError):
    """A recorded outcome that cannot be applied as written (a call back without a time...)."""


class UnknownOwnerError(LookupError):
    """No field agent of the organization has this address."""


class LeadCallRefusedError(RuntimeError):
    """The lead may not be called now: `reason` says why in a word, the message in words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def claim_lead_call(session: Session, lead: CampaignLead, campaign: Campaign, now: datetime) -> str:
    """A field agent asks the campaign's agent to call their lead now: an attempt of the
    campaign, claimed at once (then dialed like any other, see `campaign_runs.begin_dial`),
    under the same rules the dialer keeps — never a number on the do-not-call list, never
    outside the lead's calling hours. Returns the attempt's id; raises `LeadCallRefusedError`."""
    if lead.status == "calling":
        raise LeadCallRefusedError("lead_busy", "a call to this lead is already in progress")
    if campaign.state == CampaignState.CANCELLED.value:
        raise LeadCallRefusedError("campaign_cancelled", "the lead's campaign was cancelled")
    if do_not_call.do_not_call_among(session, lead.organization_id, [lead.phone_number]):
        raise LeadCallRefusedError("do_not_call", "the number is on the do-not-call list")
    settings = settings_of(campaign)
    zones = resolve_lead_time_zone(
        lead.phone_number, lead.time_zone, parse_time_zone(settings.default_time_zone)
    ).zones
    windows = settings.windows()
    if not windows.is_open(now, zones):
        opens = windows.next_opening(now, zones)
        when = f"; they open at {opens.isoformat(timespec='minutes')}" if opens else ""
        raise LeadCallRefusedError(
            "outside_calling_hours", f"the lead's calling hours are closed now{when}"
        )
    attempt = attempt_rows.add_attempt(session, campaign, lead, now)
    session.flush()
    return attempt.id


def check_call_back(outcome: Outcome, call_back_at: datetime | None, now: datetime) -> None:
    """A call back needs a time ahead (within a year); no other outcome takes one."""
    if outcome is Outcome.CALL_BACK and call_back_at is None:
        raise InvalidLeadReportError("call_back needs call_back_at_unix: when to call back")
    if call_back_at is None:
        return
    if outcome is not Outcome.CALL_BACK:
        raise InvalidLeadReportError("call_back_at_unix is only for the call_back outcome")
    if call_back_at <= now:
        raise InvalidLeadReportError("call_back_at_unix is in the past")
    if call_back_at > now + CALL_BACK_HORIZON:
        raise InvalidLeadReportError("call_back_at_unix is more than a year ahead")


def record_outcome(
    session: Session,
    lead: CampaignLead,
    user_id: str,
    user_email: str,
    *,
    outcome: Outcome,
    note: str,
    call_back_at: datetime | None,
    now: datetime,
    request_key: str | None = None,
) -> LeadReport:
    """Record what the owner found (`lead` locked by the caller, e.g. `rows.lock_owned_lead`).
    A `request_key` already used by this user returns the report it made, changing nothing
    (an app replaying a write whose answer it lost). Raises `LeadBusyError` while a call to the
    lead is on, `InvalidLeadReportError`."""
    if request_key is not None:
        done = rows.report_with_key(session, user_id, request_key)
        if done is not None:
            if done.lead_id != lead.id:
                raise InvalidLeadReportError(
                    "this Idempotency-Key was used for another lead's outcome"
                )
            return done
    if outcome not in FIELD_OUTCOMES:
        raise InvalidLeadReportError(
            f"{outcome} is not an outcome a person records: "
            f"one of {', '.join(o.value for o in FIELD_OUTCOMES)}"
        )
    check_call_back(outcome, call_back_at, now)
    if lead.status == "calling":
        raise LeadBusyError("a call to this lead is in progress; record the outcome after it")
    report = rows.add_report(session, lead, user_id, outcome.value, note, call_back_at, request_key)
    rows.close_open_callbacks(session, lead.id, "done", now)
    lead.last_outcome = outcome.value
    lead.status = "finished"
    lead.due_at = None
    lead.finished_reason = f"{outcome.value}, recorded by {user_email}"
    if call_back_at is not None:
        rows.add_callback(session, lead, call_back_at, source="field_agent", note=note)
    if outcome.adds_to_do_not_call:
        do_not_call.add_do_not_call(
            session, lead.organization_id, lead.phone_number, source="field_agent", note=lead.id
        )
    session.flush()
    return report


def hand_call_back_to_owner(
    session: Session,
    lead: CampaignLead,
    call_back_at: datetime,
    conversation_id: str,
    now: datetime,
) -> bool:
    """A lead with an owner asked, in a call, to be called back at `call_back_at`: the call back
    goes on the owner's list and the dialer leaves the lead. False when the lead has no owner
    (the campaign's dialer calls back instead)."""
    if lead.owner_user_id is None:
        return False
    rows.close_open_callbacks(session, lead.id, "cancelled", now)
    rows.add_callback(session, lead, call_back_at, source="call", conversation_id=conversation_id)
    lead.status = "finished"
    lead.due_at = None
    lead.finished_reason = (
        f"asked to be called back at {call_back_at.isoformat(timespec='minutes')}: "
        "on the owner's list"
    )
    return True


def assign(
    session: Session, lead: CampaignLead, owner_email: str | None, now: datetime
) -> str | None:
    """Give the lead to the field agent with `owner_email` (None: to nobody); open call backs
    follow the lead to its new owner, or are cancelled when it has none. Returns the owner's id.
    Raises `UnknownOwnerError`."""
    if owner_email is None:
        owner_id = None
    else:
        owner_id = rows.field_agents_by_email(session, lead.organization_id).get(
            owner_email.strip().lower()
        )
        if owner_id is None:
            raise UnknownOwnerError(f"no field agent {owner_email!r} in this organization")
    if owner_id == lead.owner_user_id:
        return owner_id
    if owner_id is None:
        rows.close_open_callbacks(session, lead.id, "cancelled", now)
    else:
        rows.move_open_callbacks(session, lead.id, owner_id)
    lead.owner_user_id = owner_id
    session.flush()
    return owner_id
