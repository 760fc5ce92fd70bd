"""What the SIP user agent tells the application: calls arriving, answered, failing, ending, and
transfers ending. Plain data."""

from __future__ import annotations

from dataclasses import dataclass

from telephony.sip.placing import Outcome
from telephony.sip.transactions import Address


@dataclass(frozen=True)
class IncomingCall:
    key: str
    number: str  # the number dialled: the Request-URI's user part, else the To URI's
    caller: str  # the From URI's user part
    offer: bytes  # the SDP body
    content_type: str
    source: Address
    extra_headers: dict[str, str]  # the caller's X- headers, names as sent
    authorization: str = ""  # the INVITE's Authorization header, for a digest check


@dataclass(frozen=True)
class SessionOffered:
    """A new SDP offer inside an answered call (re-INVITE or UPDATE: hold, off hold, a new
    address): the application answers it with `accept_offer` or refuses it (488) with
    `refuse_offer`. An empty `offer` asks for ours (a re-INVITE without SDP)."""

    key: str
    method: str  # INVITE or UPDATE
    offer: bytes
    content_type: str


@dataclass(frozen=True)
class CallConfirmed:
    """The caller's ACK of our 200: the call is fully set up."""

    key: str


@dataclass(frozen=True)
class CallEnded:
    """`caller_hung_up` (BYE), `cancelled` (CANCEL before the answer) or `no_ack` (our 200 was
    never acknowledged: we sent BYE)."""

    key: str
    reason: str


@dataclass(frozen=True)
class HangUpFinished:
    """Our BYE was answered (`answered`) or given up on after 64·T1."""

    key: str
    answered: bool


@dataclass(frozen=True)
class MessageRejected:
    """A datagram that was not a usable SIP message: answered 400 when it could be, else
    dropped; `reason` is what to count it under."""

    reason: str
    answered: bool


@dataclass(frozen=True)
class CallAnswered:
    """A call we placed was answered (and acknowledged); `answer` is the callee's SDP."""

    key: str
    answer: bytes
    source: Address


@dataclass(frozen=True)
class CallFailed:
    """A call we placed ended unanswered: busy, no answer, or failed, with why."""

    key: str
    outcome: Outcome


@dataclass(frozen=True)
class TransferEnded:
    """Our REFER's end: the trunk reached the person (NOTIFY `SIP/2.0 200`), or refused or
    failed (`detail` says how)."""

    key: str
    succeeded: bool
    detail: str


Event = (
    IncomingCall
    | CallConfirmed
    | CallEnded
    | HangUpFinished
    | MessageRejected
    | CallAnswered
    | CallFailed
    | TransferEnded
    | SessionOffered
)
