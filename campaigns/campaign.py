"""An outbound campaign's settings: who calls, from which number, when, how fast, how often."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from campaigns.pacing import Pace
from campaigns.phone_numbers import InvalidPhoneNumberError, normalize_phone_number
from campaigns.retries import RetryPolicy
from campaigns.states import CampaignState, transition
from campaigns.voicemail import VoicemailBehaviour
from campaigns.windows import CallingWindows


class InvalidCampaignError(ValueError):
    """Campaign settings that cannot be run, with what to fix."""


@dataclass(frozen=True, slots=True)
class Campaign:
    """Everything the dialer needs to decide whether and how to call a lead.

    `default_time_zone` is used for leads whose number has no known zone and whose row named
    none. `windows` carries the start and end dates as well as the weekly schedule.
    """

    agent_id: str
    caller_id: str
    windows: CallingWindows
    default_time_zone: ZoneInfo
    pace: Pace
    retry_policy: RetryPolicy
    voicemail: VoicemailBehaviour
    state: CampaignState = CampaignState.DRAFT

    def __post_init__(self) -> None:
        if not self.agent_id.strip():
            raise InvalidCampaignError("a campaign needs an agent to place its calls")
        check_caller_id(self.caller_id)

    def moved_to(self, target: CampaignState) -> Campaign:
        """This campaign in state `target`; raises `InvalidTransitionError` if not allowed."""
        return dataclasses.replace(self, state=transition(self.state, target))


def check_caller_id(caller_id: str) -> None:
    """Raise `InvalidCampaignError` unless `caller_id` is a valid number written in E.164 (the
    number a campaign calls from)."""
    try:
        e164 = normalize_phone_number(caller_id)
    except InvalidPhoneNumberError as error:
        raise InvalidCampaignError(f"caller ID {error}") from None
    if e164 != caller_id:
        raise InvalidCampaignError(f"caller ID {caller_id!r} must be E.164, e.g. {e164}")
