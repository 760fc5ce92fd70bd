from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.campaign import Campaign
from campaigns.eligibility import DialDecision, LeadDialState, Reason, Verdict, dial_decision
from campaigns.pacing import Pace
from campaigns.retries import RetryPolicy
from campaigns.states import CampaignState
from campaigns.voicemail import VoicemailBehaviour
from campaigns.windows import CallingWindows, WeeklySchedule

pytestmark = pytest.mark.unit

NEW_YORK = ZoneInfo("America/New_York")
NEW_YORK_NUMBER = "+12125550100"
MONDAY_NOON = datetime(2025, 6, 2, 12, 0, tzinfo=NEW_YORK).astimezone(UTC)
NO_DNC: frozenset[str] = frozenset()


def running_campaign(**windows: datetime) -> Campaign:
    return Campaign(
        agent_id="agent_1",
        caller_id="+14155550199",
        windows=CallingWindows(WeeklySchedule.weekdays("09:00-19:00"), **windows),
        default_time_zone=NEW_YORK,
        pace=Pace(5, 20),
        retry_policy=RetryPolicy(max_total_attempts=3),
        voicemail=VoicemailBehaviour.hang_up(),
        state=CampaignState.RUNNING,
    )


def fresh_lead(
    *,
    phone_number: str = NEW_YORK_NUMBER,
    time_zone: str | None = None,
    attempts_made: int = 0,
    attempt_in_progress: bool = False,
    due_at: datetime | None = None,
    finished: bool = False,
) -> LeadDialState:
    return LeadDialState(
        phone_number, time_zone, attempts_made, attempt_in_progress, due_at, finished
    )


def decide(
    lead: LeadDialState | None = None,
    at: datetime = MONDAY_NOON,
    campaign: Campaign | None = None,
    dnc: frozenset[str] = NO_DNC,
) -> DialDecision:
    return dial_decision(campaign or running_campaign(), lead or fresh_lead(), dnc, at)


def test_fresh_lead_inside_its_window_is_dialed_now() -> None:
    assert decide().dial


def test_lead_in_a_paused_campaign_waits_for_it_to_resume() -> None:
    paused = running_campaign().moved_to(CampaignState.PAUSED)
    decision = decide(campaign=paused)
    assert decision.verdict is Verdict.WAIT
    assert decision.reason is Reason.CAMPAIGN_NOT_RUNNING
    assert decision.look_again_at is None


def test_lead_after_the_campaign_end_is_skipped() -> None:
    decision = decide(campaign=running_campaign(ends_at=MONDAY_NOON))
    assert (decision.verdict, decision.reason) == (Verdict.SKIP, Reason.CAMPAIGN_ENDED)


def test_lead_with_a_final_outcome_is_skipped() -> None:
    decision = decide(fresh_lead(attempts_made=1, finished=True))
    assert (decision.verdict, decision.reason) == (Verdict.SKIP, Reason.LEAD_FINISHED)


def test_lead_on_a_call_is_never_dialed_twice_at_once() -> None:
    decision = decide(fresh_lead(attempts_made=1, attempt_in_progress=True))
    assert decision == DialDecision(
        Verdict.WAIT, Reason.ATTEMPT_IN_PROGRESS, None, "the lead is on a call right now"
    )


def test_lead_on_the_do_not_call_list_is_skipped_at_dial_time() -> None:
    decision = decide(dnc=frozenset({NEW_YORK_NUMBER}))
    assert (decision.verdict, decision.reason) == (Verdict.SKIP, Reason.DO_NOT_CALL)


def test_lead_with_no_attempts_left_is_skipped() -> None:
    decision = decide(fresh_lead(attempts_made=3, due_at=MONDAY_NOON))
    assert (decision.verdict, decision.reason) == (Verdict.SKIP, Reason.NO_ATTEMPTS_LEFT)


def test_retry_due_inside_the_window_is_looked_at_again_when_due() -> None:
    due = MONDAY_NOON + timedelta(hours=2)
    decision = decide(fresh_lead(attempts_made=1, due_at=due))
    assert (decision.verdict, decision.reason) == (Verdict.WAIT, Reason.RETRY_NOT_DUE)
    assert decision.look_again_at == due


def test_retry_due_after_hours_waits_for_the_next_opening() -> None:
    due = datetime(2025, 6, 2, 21, 0, tzinfo=NEW_YORK)
    decision = decide(fresh_lead(attempts_made=1, due_at=due))
    assert decision.look_again_at == datetime(2025, 6, 3, 9, 0, tzinfo=NEW_YORK)


def test_overdue_retry_inside_the_window_is_dialed_now() -> None:
    decision = decide(fresh_lead(attempts_made=1, due_at=MONDAY_NOON - timedelta(days=1)))
    assert decision.dial


def test_lead_outside_its_window_waits_for_the_next_opening() -> None:
    saturday = datetime(2025, 6, 7, 12, 0, tzinfo=NEW_YORK)
    decision = decide(at=saturday)
    assert (decision.verdict, decision.reason) == (Verdict.WAIT, Reason.OUTSIDE_CALLING_WINDOW)
    assert decision.look_again_at == datetime(2025, 6, 9, 9, 0, tzinfo=NEW_YORK)


def test_window_is_evaluated_in_the_zone_named_for_the_lead() -> None:
    # Noon in New York is 18:00 in Paris; 19:30 in Paris is after hours there.
    at = datetime(2025, 6, 2, 19, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert decide(at=at).dial
    decision = decide(fresh_lead(time_zone="Europe/Paris"), at=at)
    assert decision.reason is Reason.OUTSIDE_CALLING_WINDOW


def test_lead_before_the_campaign_start_waits_for_the_start() -> None:
    starts = MONDAY_NOON + timedelta(days=1)
    decision = decide(campaign=running_campaign(starts_at=starts))
    assert (decision.verdict, decision.reason) == (Verdict.WAIT, Reason.CAMPAIGN_NOT_STARTED)
    assert decision.look_again_at == starts


def test_lead_whose_window_does_not_open_before_the_end_is_skipped() -> None:
    friday_evening = datetime(2025, 6, 6, 20, 0, tzinfo=NEW_YORK)
    campaign = running_campaign(ends_at=friday_evening + timedelta(days=1))
    decision = decide(at=friday_evening, campaign=campaign)
    assert (decision.verdict, decision.reason) == (Verdict.SKIP, Reason.NO_CALLING_WINDOW)


def test_lead_with_an_unknown_stored_zone_is_skipped_with_the_zone_named() -> None:
    decision = decide(fresh_lead(time_zone="Mars/Base"))
    assert (decision.verdict, decision.reason) == (Verdict.SKIP, Reason.UNKNOWN_TIME_ZONE)
    assert "Mars/Base" in decision.detail


def test_number_spanning_zones_waits_until_the_window_is_open_in_all_of_them() -> None:
    nine_thirty_in_boise = datetime(2025, 6, 2, 9, 30, tzinfo=ZoneInfo("America/Boise"))
    decision = decide(fresh_lead(phone_number="+12085550123"), at=nine_thirty_in_boise)
    assert decision.reason is Reason.OUTSIDE_CALLING_WINDOW
    assert decision.look_again_at == datetime(
        2025, 6, 2, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")
    )
