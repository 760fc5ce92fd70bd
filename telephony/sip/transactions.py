"""RFC 3261 section 17 transactions, as deadlines on a clock the caller passes in.

Each transaction remembers what it last sent and when it must act next; `due(now)` says what to
re-send, and `expired` when it is over. Over a reliable transport (TCP) nothing is re-sent
(timers A, E and G are off, section 17.1.1.2, 17.1.2.2, 17.2.1) but the timeouts (B, F, H)
still end what is never answered. Nothing here sleeps or touches a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

T1 = 0.5  # round-trip estimate
T2 = 4.0  # longest interval between retransmissions of a non-INVITE request or a final answer
T4 = 5.0  # how long a message may stay in the network
TIMEOUT = 64 * T1  # timers B, F, H, J: 32 s


Address = tuple[str, int]


@dataclass
class Retransmission:
    """A message re-sent at T1, 2·T1, 4·T1... (capped at `cap`) until stopped or `give_up_at`."""

    data: bytes
    to: Address
    next_at: float
    give_up_at: float
    interval: float = T1
    cap: float = T2
    sent: int = 1
    reliable: bool = False  # sent over TCP: never re-sent, only timed out

    @classmethod
    def start(
        cls, data: bytes, to: Address, now: float, cap: float = T2, *, reliable: bool = False
    ) -> Retransmission:
        return cls(data, to, now + T1, now + TIMEOUT, T1, cap, reliable=reliable)

    def due(self, now: float) -> bool:
        """True (and the next one scheduled) when the message is to be re-sent now."""
        if self.reliable or now < self.next_at or now >= self.give_up_at:
            return False
        self.interval = min(self.interval * 2, self.cap)
        self.next_at = now + self.interval
        self.sent += 1
        return True

    def timed_out(self, now: float) -> bool:
        return now >= self.give_up_at

    def deadline(self) -> float:
        return self.give_up_at if self.reliable else min(self.next_at, self.give_up_at)


class InviteState(Enum):
    PROCEEDING = "proceeding"
    ACCEPTED = "accepted"  # a 2xx was sent (RFC 6026): retransmitted INVITEs get it again
    COMPLETED = "completed"  # a final failure was sent: re-sent (timer G) until ACK (timer H)
    CONFIRMED = "confirmed"  # its ACK came: absorb stray ACKs for T4 (timer I)
    TERMINATED = "terminated"


@dataclass
class InviteServerTransaction:
    """One INVITE as we answer it: its provisional and final responses, and their timers."""

    branch: str
    source: Address
    reliable: bool = False
    state: InviteState = InviteState.PROCEEDING
    last_response: bytes = b""
    retransmission: Retransmission | None = None
    ends_at: float | None = None

    def provisional(self, data: bytes) -> None:
        self.last_response = data

    def accepted(self, data: bytes, now: float) -> None:
        """A 2xx: the dialog re-sends it until ACK; this only answers retransmitted INVITEs."""
        self.state = InviteState.ACCEPTED
        self.last_response = data
        self.ends_at = now + TIMEOUT

    def rejected(self, data: bytes, now: float) -> None:
        """A final failure (3xx-6xx): re-sent by timer G until its ACK or timer H."""
        self.state = InviteState.COMPLETED
        self.last_response = data
        self.retransmission = Retransmission.start(data, self.source, now, reliable=self.reliable)

    def on_ack(self, now: float) -> None:
        if self.state is InviteState.COMPLETED:
            self.state = InviteState.CONFIRMED
            self.retransmission = None
            self.ends_at = now + T4

    def due(self, now: float) -> list[tuple[bytes, Address]]:
        """What to re-send now; the state moves to TERMINATED when its last timer fires."""
        if self.retransmission is not None:
            if self.retransmission.timed_out(now):  # timer H: the ACK never came
                self.state = InviteState.TERMINATED
                self.retransmission = None
                return []
            if self.retransmission.due(now):
                return [(self.retransmission.data, self.source)]
        if self.ends_at is not None and now >= self.ends_at:
            self.state = InviteState.TERMINATED
        return []

    def deadline(self) -> float | None:
        if self.retransmission is not None:
            return self.retransmission.deadline()
        return self.ends_at


@dataclass
class ServerTransaction:
    """A non-INVITE request we answered at once: the answer is re-sent to each retransmission
    of the request for 64·T1 (timer J)."""

    response: bytes
    ends_at: float


@dataclass
class ClientTransaction:
    """A non-INVITE request we sent (BYE): re-sent by timer E until a final answer, or
    given up at timer F."""

    method: str
    call_key: str
    retransmission: Retransmission
    answered: bool = False
    provisional: bool = field(default=False)

    def on_response(self, status: int) -> bool:
        """True when the response is final (the transaction is over)."""
        if status < 200:
            self.provisional = True
            self.retransmission.interval = T2 / 2  # proceeding: re-sent every T2
            return False
        self.answered = True
        return True
