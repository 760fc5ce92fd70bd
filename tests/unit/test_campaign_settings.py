"""Campaign settings as the API takes them: defaults, every refusal named, the domain they build."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.outbound.campaign_settings import CampaignSettings
from campaigns.outcomes import Outcome
from campaigns.states import CampaignState
from campaigns.voicemail import VoicemailAction

pytestmark = pytest.mark.unit


def test_defaults_call_on_weekdays_from_nine_to_seven_with_the_domains_retry_rules() -> None:
    plan = CampaignSettings().campaign("agent_1", "+12125550100", "running")
    wednesday_noon = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)
    saturday_noon = datetime(2027, 1, 9, 12, 0, tzinfo=UTC)
    assert plan.windows.is_open(wednesday_noon, plan.default_time_zone)
    assert not plan.windows.is_open(saturday_noon, plan.default_time_zone)
    assert plan.state is CampaignState.RUNNING
    assert plan.retry_policy.rules[Outcome.NO_ANSWER].delay == timedelta(hours=2)
    assert plan.voicemail.action is VoicemailAction.HANG_UP


def test_settings_round_trip_through_json_as_the_database_keeps_them() -> None:
    settings = CampaignSettings(
        calling_hours={"sat": ["10:00-14:00"]},
        starts_at=datetime(2027, 1, 1, 9, 0, tzinfo=UTC),
        default_time_zone="Europe/London",
        retry={"rules": {"busy": {"delay_minutes": 5, "max_attempts": 4}}},
        voicemail={"action": "leave_message", "message": "Hi {{first_name}}, call us back."},
    )
    again = CampaignSettings.model_validate(settings.model_dump(mode="json"))
    assert again == settings
    assert again.retry_policy().rules == {Outcome.BUSY: again.retry_policy().rules[Outcome.BUSY]}
    assert again.voicemail_behaviour().action is VoicemailAction.LEAVE_MESSAGE


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"calling_hours": {"mon": ["19:00-09:00"]}}, "ends before it starts"),
        ({"calling_hours": {"someday": ["09:00-10:00"]}}, "unknown weekday"),
        ({"calling_hours": {}}, "no time range"),
        ({"default_time_zone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"starts_at": "2027-01-01T09:00:00"}, "time zone"),
        (
            {"starts_at": "2027-01-02T09:00:00Z", "ends_at": "2027-01-01T09:00:00Z"},
            "end after it starts",
        ),
        ({"retry": {"rules": {"do_not_call": {"delay_minutes": 1, "max_attempts": 2}}}}, "final"),
        ({"retry": {"rules": {"maybe": {"delay_minutes": 1, "max_attempts": 2}}}}, "maybe"),
        ({"voicemail": {"action": "leave_message"}}, "needs the message"),
        ({"voicemail": {"action": "hang_up", "message": "hi"}}, "leaves no message"),
        ({"max_concurrent_calls": 0}, "max_concurrent_calls"),
        ({"dial_everyone": True}, "dial_everyone"),
    ],
)
def test_invalid_settings_are_refused_naming_what_is_wrong(
    fields: dict[str, object], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        CampaignSettings.model_validate(fields)
