"""The outcome vocabulary of a campaign call, and how carrier results map into it.

Carrier results (no answer, busy, a machine) are known when the call ends; what a person said
(meeting booked, not interested, "remove me") is decided by the agent or by post-call analysis
and replaces the provisional `COMPLETED`.
"""

from __future__ import annotations

import enum

from campaigns.voicemail import Answerer, VoicemailAction, VoicemailBehaviour, answerer_from_twilio


class Outcome(enum.StrEnum):
    """How one call attempt ended."""

    # A person was reached.
    MEETING_BOOKED = "meeting_booked"
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    CALL_BACK = "call_back"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"
    COMPLETED = "completed"
    # Nobody was reached.
    VOICEMAIL = "voicemail"
    ANSWERED_BY_MACHINE = "answered_by_machine"
    FAX = "fax"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def reached_a_person(self) -> bool:
        """Whether someone spoke with the agent on this attempt."""
        return self in _PERSON_OUTCOMES

    @property
    def adds_to_do_not_call(self) -> bool:
        """Whether the number must go on the organization's do-not-call list ("remove me")."""
        return self is Outcome.DO_NOT_CALL


_PERSON_OUTCOMES = frozenset(
    {
        Outcome.MEETING_BOOKED,
        Outcome.INTERESTED,
        Outcome.NOT_INTERESTED,
        Outcome.CALL_BACK,
        Outcome.WRONG_NUMBER,
        Outcome.DO_NOT_CALL,
        Outcome.COMPLETED,
    }
)

_UNANSWERED_STATUSES = {
    "no-answer": Outcome.NO_ANSWER,
    "busy": Outcome.BUSY,
    "failed": Outcome.FAILED,
    "canceled": Outcome.CANCELED,
}
_IN_FLIGHT_STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress"})


class UnknownCallStatusError(ValueError):
    """A Twilio call status this code does not know; the callback should be logged and kept."""

    def __init__(self, status: str) -> None:
        super().__init__(
            f"unknown Twilio call status {status!r}: expected one of "
            f"{', '.join(sorted(_IN_FLIGHT_STATUSES | {*_UNANSWERED_STATUSES, 'completed'}))}"
        )
        self.status = status


def outcome_from_twilio(
    call_status: str, answered_by: str | None, voicemail: VoicemailBehaviour
) -> Outcome | None:
    """The outcome of a finished Twilio call, or None while the call is still in flight.

    A completed call answered by a machine is `VOICEMAIL` when the campaign leaves a message
    and `ANSWERED_BY_MACHINE` when it hangs up; by a fax, `FAX`; by a person (or an answerer
    detection could not tell), the provisional `COMPLETED`.
    """
    status = call_status.strip().lower()
    if status in _IN_FLIGHT_STATUSES:
        return None
    if status in _UNANSWERED_STATUSES:
        return _UNANSWERED_STATUSES[status]
    if status != "completed":
        raise UnknownCallStatusError(call_status)
    answerer = answerer_from_twilio(answered_by)
    if answerer is Answerer.MACHINE:
        if voicemail.action is VoicemailAction.LEAVE_MESSAGE:
            return Outcome.VOICEMAIL
        return Outcome.ANSWERED_BY_MACHINE
    if answerer is Answerer.FAX:
        return Outcome.FAX
    return Outcome.COMPLETED
