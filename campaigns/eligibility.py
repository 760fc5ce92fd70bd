"""Whether the dialer may call a lead now, and if not, why and when to look again.

This is the one question the dialer tick asks per lead; it combines the campaign's state and
dates, the do-not-call list, the lead's attempts and retries, and its calling window.
"""

from __future__ import annotations

import enum
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime

from campaigns.campaign import Campaign
from campaigns.do_not_call import may_dial
from campaigns.states import CampaignState
from campaigns.timezones import UnknownTimeZoneError, resolve_lead_time_zone


class Verdict(enum.StrEnum):
    """Dial now, wait and look again, or skip the lead for good in this campaign."""

    DIAL = "dial"
    WAIT = "wait"
    SKIP = "skip"


class Reason(enum.StrEnum):
    """Why a lead is not dialed now."""

    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    CAMPAIGN_NOT_STARTED = "campaign_not_started"
    CAMPAIGN_ENDED = "campaign_ended"
    LEAD_FINISHED = "lead_finished"
    ATTEMPT_IN_PROGRESS = "attempt_in_progress"
    DO_NOT_CALL = "do_not_call"
    NO_ATTEMPTS_LEFT = "no_attempts_left"
    UNKNOWN_TIME_ZONE = "unknown_time_zone"
    RETRY_NOT_DUE = "retry_not_due"
    OUTSIDE_CALLING_WINDOW = "outside_calling_window"
    NO_CALLING_WINDOW = "no_calling_window"


@dataclass(frozen=True, slots=True)
class LeadDialState:
    """What the dialer knows about a lead: its number, named zone, attempts and next due time.

    `due_at` is when the next attempt is due (None: at once, as for a lead never called);
    `finished` is set once an attempt ended with a final outcome.
    """

    phone_number: str
    time_zone: str | None
    attempts_made: int
    attempt_in_progress: bool
    due_at: datetime | None
    finished: bool = False


@dataclass(frozen=True, slots=True)
class DialDecision:
    """The verdict, the reason when it is not DIAL, and when a WAIT is worth checking again.

    `look_again_at` is None for a WAIT that ends on an event rather than a time (the campaign
    is resumed, the call in progress ends).
    """

    verdict: Verdict
    reason: Reason | None = None
    look_again_at: datetime | None = None
    detail: str = ""

    @property
    def dial(self) -> bool:
        """Whether to place the call now."""
        return self.verdict is Verdict.DIAL


def _skip(reason: Reason, detail: str) -> DialDecision:
    return DialDecision(Verdict.SKIP, reason, None, detail)


def dial_decision(
    campaign: Campaign, lead: LeadDialState, do_not_call: Container[str], now: datetime
) -> DialDecision:
    """Decide whether to dial `lead` at `now` (an aware UTC instant).

    `do_not_call` is the organization's list of E.164 numbers, read at dial time so a number
    added mid-campaign is never called. Checks run cheapest and most final first.
    """
    windows = campaign.windows
    if campaign.state is not CampaignState.RUNNING:
        return DialDecision(
            Verdict.WAIT, Reason.CAMPAIGN_NOT_RUNNING, None, f"campaign is {campaign.state}"
        )
    if windows.ends_at is not None and now >= windows.ends_at:
        return _skip(Reason.CAMPAIGN_ENDED, f"campaign ended at {windows.ends_at.isoformat()}")
    if lead.finished:
        return _skip(Reason.LEAD_FINISHED, "an earlier attempt ended with a final outcome")
    if lead.attempt_in_progress:
        return DialDecision(
            Verdict.WAIT, Reason.ATTEMPT_IN_PROGRESS, None, "the lead is on a call right now"
        )
    if not may_dial(lead.phone_number, do_not_call):
        return _skip(Reason.DO_NOT_CALL, f"{lead.phone_number} is on the do-not-call list")
    if lead.attempts_made >= campaign.retry_policy.max_total_attempts:
        return _skip(Reason.NO_ATTEMPTS_LEFT, f"{lead.attempts_made} attempts already made")
    try:
        zone = resolve_lead_time_zone(lead.phone_number, lead.time_zone, campaign.default_time_zone)
    except UnknownTimeZoneError as error:
        return _skip(Reason.UNKNOWN_TIME_ZONE, str(error))
    earliest = max(now, lead.due_at) if lead.due_at is not None else now
    opening = windows.next_opening(earliest, zone.zones)
    if opening is None:
        return _skip(
            Reason.NO_CALLING_WINDOW,
            f"the calling window does not open in {', '.join(zone.names)} before the campaign "
            "ends (or, for several zones, never at the same time: name the lead's time zone)",
        )
    if opening == now:
        return DialDecision(Verdict.DIAL)
    if lead.due_at is not None and lead.due_at > now:
        reason = Reason.RETRY_NOT_DUE
    elif windows.starts_at is not None and windows.starts_at > now:
        reason = Reason.CAMPAIGN_NOT_STARTED
    else:
        reason = Reason.OUTSIDE_CALLING_WINDOW
    return DialDecision(Verdict.WAIT, reason, opening, f"next opening {opening.isoformat()}")
