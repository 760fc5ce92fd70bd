import pytest

from campaigns.outcomes import Outcome, UnknownCallStatusError, outcome_from_twilio
from campaigns.voicemail import VoicemailBehaviour

pytestmark = pytest.mark.unit

LEAVE_MESSAGE = VoicemailBehaviour.leave_message("voicemail/follow_up.j2")
HANG_UP = VoicemailBehaviour.hang_up()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("no-answer", Outcome.NO_ANSWER),
        ("busy", Outcome.BUSY),
        ("failed", Outcome.FAILED),
        ("canceled", Outcome.CANCELED),
    ],
)
def test_unanswered_call_statuses_map_to_their_outcome(status: str, outcome: Outcome) -> None:
    assert outcome_from_twilio(status, None, LEAVE_MESSAGE) is outcome


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_call_still_in_flight_has_no_outcome_yet(status: str) -> None:
    assert outcome_from_twilio(status, None, LEAVE_MESSAGE) is None


@pytest.mark.parametrize("answered_by", ["human", "unknown", None])
def test_completed_call_with_a_person_is_provisionally_completed(answered_by: str | None) -> None:
    assert outcome_from_twilio("completed", answered_by, LEAVE_MESSAGE) is Outcome.COMPLETED


def test_machine_with_leave_message_is_voicemail() -> None:
    assert outcome_from_twilio("completed", "machine_end_beep", LEAVE_MESSAGE) is Outcome.VOICEMAIL


def test_machine_with_hang_up_is_answered_by_machine() -> None:
    outcome = outcome_from_twilio("completed", "machine_start", HANG_UP)
    assert outcome is Outcome.ANSWERED_BY_MACHINE


def test_fax_is_its_own_outcome() -> None:
    assert outcome_from_twilio("completed", "fax", LEAVE_MESSAGE) is Outcome.FAX


def test_unknown_call_status_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(UnknownCallStatusError, match="no-answer"):
        outcome_from_twilio("exploded", None, LEAVE_MESSAGE)


def test_only_do_not_call_adds_the_number_to_the_do_not_call_list() -> None:
    assert [o for o in Outcome if o.adds_to_do_not_call] == [Outcome.DO_NOT_CALL]


@pytest.mark.parametrize(
    "outcome", [Outcome.MEETING_BOOKED, Outcome.WRONG_NUMBER, Outcome.DO_NOT_CALL]
)
def test_conversation_outcomes_reached_a_person(outcome: Outcome) -> None:
    assert outcome.reached_a_person


@pytest.mark.parametrize("outcome", [Outcome.VOICEMAIL, Outcome.NO_ANSWER, Outcome.FAX])
def test_carrier_outcomes_did_not_reach_a_person(outcome: Outcome) -> None:
    assert not outcome.reached_a_person
