from zoneinfo import ZoneInfo

import pytest

from campaigns.campaign import Campaign, InvalidCampaignError
from campaigns.pacing import Pace
from campaigns.retries import RetryPolicy
from campaigns.states import CampaignState, InvalidTransitionError
from campaigns.voicemail import VoicemailBehaviour
from campaigns.windows import CallingWindows, WeeklySchedule

pytestmark = pytest.mark.unit


def campaign(agent_id: str = "agent_1", caller_id: str = "+12125550100") -> Campaign:
    return Campaign(
        agent_id=agent_id,
        caller_id=caller_id,
        windows=CallingWindows(WeeklySchedule.weekdays("09:00-19:00")),
        default_time_zone=ZoneInfo("America/New_York"),
        pace=Pace(max_concurrent_calls=5, calls_per_minute=20),
        retry_policy=RetryPolicy(),
        voicemail=VoicemailBehaviour.hang_up(),
    )


def test_new_campaign_is_a_draft() -> None:
    assert campaign().state is CampaignState.DRAFT


def test_caller_id_must_be_written_in_e164() -> None:
    with pytest.raises(InvalidCampaignError, match=r"\+12125550100"):
        campaign(caller_id="+1 212 555 0100")


def test_caller_id_must_be_a_valid_number() -> None:
    with pytest.raises(InvalidCampaignError, match="caller ID"):
        campaign(caller_id="+1555")


def test_campaign_needs_an_agent() -> None:
    with pytest.raises(InvalidCampaignError, match="agent"):
        campaign(agent_id=" ")


def test_moving_a_campaign_follows_the_life_cycle() -> None:
    running = campaign().moved_to(CampaignState.SCHEDULED).moved_to(CampaignState.RUNNING)
    assert running.state is CampaignState.RUNNING
    with pytest.raises(InvalidTransitionError):
        running.moved_to(CampaignState.DRAFT)
