"""What a campaign does when an answering machine picks up, and who answering detection heard."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class InvalidVoicemailBehaviourError(ValueError):
    """A voicemail setting that contradicts itself."""


class VoicemailAction(enum.StrEnum):
    """Leave the campaign's message after the beep, or hang up without a word."""

    LEAVE_MESSAGE = "leave_message"
    HANG_UP = "hang_up"


@dataclass(frozen=True, slots=True)
class VoicemailBehaviour:
    """The action on a machine; leaving a message names the voicemail template to speak."""

    action: VoicemailAction
    message_template: str | None = None

    def __post_init__(self) -> None:
        if self.action is VoicemailAction.LEAVE_MESSAGE and not self.message_template:
            raise InvalidVoicemailBehaviourError(
                "leave_message needs a message template name (a voicemail script in templates/)"
            )
        if self.action is VoicemailAction.HANG_UP and self.message_template is not None:
            raise InvalidVoicemailBehaviourError(
                "hang_up leaves no message: drop the message template or choose leave_message"
            )

    @classmethod
    def leave_message(cls, template: str) -> VoicemailBehaviour:
        """Speak `template` after the beep."""
        return cls(VoicemailAction.LEAVE_MESSAGE, template)

    @classmethod
    def hang_up(cls) -> VoicemailBehaviour:
        """Hang up as soon as a machine is detected."""
        return cls(VoicemailAction.HANG_UP)


class Answerer(enum.StrEnum):
    """Who picked up, as answering machine detection tells it."""

    HUMAN = "human"
    MACHINE = "machine"
    FAX = "fax"
    UNKNOWN = "unknown"


_AMD_ANSWERERS = {
    "human": Answerer.HUMAN,
    "machine_start": Answerer.MACHINE,
    "machine_end_beep": Answerer.MACHINE,
    "machine_end_silence": Answerer.MACHINE,
    "machine_end_other": Answerer.MACHINE,
    "fax": Answerer.FAX,
    "unknown": Answerer.UNKNOWN,
}


def answerer_from_twilio(answered_by: str | None) -> Answerer:
    """Map Twilio's `AnsweredBy` value; absent or unrecognised values are `UNKNOWN`.

    An unknown answerer is treated like a person by the dialer (the agent starts talking),
    because hanging up on a person who said a short "hello" is worse than greeting a machine.
    """
    if answered_by is None:
        return Answerer.UNKNOWN
    return _AMD_ANSWERERS.get(answered_by.strip().lower(), Answerer.UNKNOWN)
