import pytest

from campaigns.voicemail import (
    Answerer,
    InvalidVoicemailBehaviourError,
    VoicemailAction,
    VoicemailBehaviour,
    answerer_from_twilio,
)

pytestmark = pytest.mark.unit


def test_leaving_a_message_names_its_template() -> None:
    behaviour = VoicemailBehaviour.leave_message("voicemail/follow_up.j2")
    assert behaviour.action is VoicemailAction.LEAVE_MESSAGE
    assert behaviour.message_template == "voicemail/follow_up.j2"


def test_leaving_a_message_without_a_template_is_rejected() -> None:
    with pytest.raises(InvalidVoicemailBehaviourError, match="template"):
        VoicemailBehaviour(VoicemailAction.LEAVE_MESSAGE)


def test_hanging_up_with_a_template_is_rejected() -> None:
    with pytest.raises(InvalidVoicemailBehaviourError, match="hang_up"):
        VoicemailBehaviour(VoicemailAction.HANG_UP, "voicemail/follow_up.j2")


@pytest.mark.parametrize(
    ("answered_by", "answerer"),
    [
        ("human", Answerer.HUMAN),
        ("machine_start", Answerer.MACHINE),
        ("machine_end_beep", Answerer.MACHINE),
        ("machine_end_silence", Answerer.MACHINE),
        ("machine_end_other", Answerer.MACHINE),
        ("fax", Answerer.FAX),
        ("unknown", Answerer.UNKNOWN),
        (None, Answerer.UNKNOWN),
        ("something_new", Answerer.UNKNOWN),
    ],
)
def test_twilio_answered_by_maps_to_who_answered(
    answered_by: str | None, answerer: Answerer
) -> None:
    assert answerer_from_twilio(answered_by) is answerer
