from datetime import UTC, datetime, timedelta

import pytest

from campaigns.states import (
    CampaignProgress,
    CampaignState,
    InvalidTransitionError,
    is_complete,
    reopen,
    transition,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
DONE = CampaignProgress(leads_pending=0, attempts_in_progress=0)
S = CampaignState


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.DRAFT, S.SCHEDULED),
        (S.SCHEDULED, S.DRAFT),
        (S.SCHEDULED, S.RUNNING),
        (S.RUNNING, S.PAUSED),
        (S.PAUSED, S.RUNNING),
        (S.RUNNING, S.COMPLETED),
        (S.PAUSED, S.COMPLETED),
        (S.DRAFT, S.CANCELLED),
        (S.SCHEDULED, S.CANCELLED),
        (S.RUNNING, S.CANCELLED),
        (S.PAUSED, S.CANCELLED),
    ],
)
def test_allowed_transitions_move_the_campaign(current: S, target: S) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.DRAFT, S.RUNNING),
        (S.DRAFT, S.COMPLETED),
        (S.SCHEDULED, S.PAUSED),
        (S.RUNNING, S.DRAFT),
        (S.RUNNING, S.SCHEDULED),
        (S.PAUSED, S.SCHEDULED),
        (S.COMPLETED, S.RUNNING),
        (S.CANCELLED, S.DRAFT),
    ],
)
def test_other_transitions_are_refused(current: S, target: S) -> None:
    with pytest.raises(InvalidTransitionError):
        transition(current, target)


def test_refused_transition_names_the_current_state_and_the_allowed_targets() -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        transition(S.DRAFT, S.RUNNING)
    assert str(caught.value) == (
        "a draft campaign cannot become running; allowed: cancelled, scheduled"
    )
    assert caught.value.allowed == {S.SCHEDULED, S.CANCELLED}


def test_refused_transition_from_a_final_state_says_it_is_final() -> None:
    with pytest.raises(InvalidTransitionError, match="completed is final"):
        transition(S.COMPLETED, S.RUNNING)


def test_only_completed_and_cancelled_are_terminal() -> None:
    assert [state for state in S if state.is_terminal] == [S.COMPLETED, S.CANCELLED]


def test_running_campaign_with_no_work_left_is_complete() -> None:
    assert is_complete(S.RUNNING, DONE, NOW, ends_at=None)


def test_running_campaign_with_a_pending_lead_is_not_complete() -> None:
    assert not is_complete(S.RUNNING, CampaignProgress(1, 0), NOW, ends_at=None)


def test_campaign_with_a_call_in_progress_is_not_complete_even_after_its_end() -> None:
    ended = NOW - timedelta(hours=1)
    assert not is_complete(S.RUNNING, CampaignProgress(0, 1), NOW, ends_at=ended)


def test_campaign_past_its_end_is_complete_with_leads_left_uncalled() -> None:
    assert is_complete(S.RUNNING, CampaignProgress(5, 0), NOW, ends_at=NOW)


def test_paused_campaign_with_leads_left_is_not_complete_before_its_end() -> None:
    later = NOW + timedelta(days=1)
    assert not is_complete(S.PAUSED, CampaignProgress(5, 0), NOW, ends_at=later)


@pytest.mark.parametrize("state", [S.DRAFT, S.SCHEDULED, S.COMPLETED, S.CANCELLED])
def test_campaigns_that_are_not_running_or_paused_never_complete(state: S) -> None:
    assert not is_complete(state, DONE, NOW, ends_at=NOW)


def test_only_a_completed_campaign_can_be_reopened_to_retry_its_leads() -> None:
    assert reopen(S.COMPLETED) is S.RUNNING
    for state in (S.DRAFT, S.SCHEDULED, S.RUNNING, S.PAUSED, S.CANCELLED):
        with pytest.raises(InvalidTransitionError):
            reopen(state)
