"""One call we place over a trunk, from our INVITE to its answer or its failure (RFC 3261
sections 13.2 and 17.1.1), sans-I/O.

The INVITE is re-sent by timer A until the trunk answers anything, and given up at timer B. A
401/407 is acknowledged and answered once with digest credentials (a new INVITE, CSeq + 1).
Every final failure is acknowledged (the ACK on the INVITE's branch) and told to the
application with its outcome: `busy` (486, 600), `no_answer` (480, 408, 487 after our CANCEL,
no response at all) or `failed`. Past the ring timeout a ringing call is cancelled. A 200 is
acknowledged (a new branch, to the callee's Contact), and again each time it is re-sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import Enum

from telephony.sip.dialogs import Dialog, DialogState
from telephony.sip.digest import DigestError, authorization
from telephony.sip.message import SipRequest, SipResponse, render, uri_of
from telephony.sip.responses import USER_AGENT, new_branch, new_tag
from telephony.sip.transactions import T1, TIMEOUT, Address, Retransmission

BUSY = frozenset({486, 600})
NO_ANSWER = frozenset({480, 408, 487})


@dataclass(frozen=True)
class Placement:
    """What to dial: `to_user` at the trunk `target`, as `from_user`, offering `offer`."""

    call_id: str
    from_user: str
    to_user: str
    target: Address
    target_host: str  # as configured (a name or an address), for the Request-URI
    offer: bytes
    ring_timeout_s: float
    headers: tuple[tuple[str, str], ...] = ()
    username: str = ""
    password: str = ""
    transport: str = "UDP"  # or TCP (the trunk's `transport: tcp`): nothing is re-sent then

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"


class PlacingState(Enum):
    CALLING = "calling"  # INVITE sent, nothing heard
    PROCEEDING = "proceeding"  # a provisional response came
    CANCELLING = "cancelling"  # we sent CANCEL: waiting for the INVITE's 487
    ANSWERED = "answered"
    FAILED = "failed"  # a final failure, acknowledged; late copies are acknowledged again


@dataclass(frozen=True)
class Outcome:
    """How a call we placed ended before it was answered."""

    outcome: str  # busy, no_answer or failed
    status: int  # the trunk's final status, 0 when it never answered
    detail: str  # the status and reason phrase, or what happened


def outcome_of(status: int, phrase: str) -> Outcome:
    kind = "busy" if status in BUSY else "no_answer" if status in NO_ANSWER else "failed"
    return Outcome(kind, status, f"{status} {phrase}".strip())


@dataclass
class PlacedCall:
    """Our side of one outgoing INVITE transaction and the dialog it makes."""

    placement: Placement
    local_host: str
    local_port: int
    started_at: float
    local_tag: str = field(default_factory=new_tag)
    cseq: int = 1
    state: PlacingState = PlacingState.CALLING
    invite: SipRequest = field(init=False)
    retransmission: Retransmission | None = None
    cancel: Retransmission | None = None
    ack: bytes = b""  # the last ACK sent, re-sent to a retransmitted final response
    authenticated: bool = False
    heard: bool = False  # a provisional response came: timer A stops, CANCEL is allowed
    cancelled_for: str = ""
    cancelled_at: float | None = None
    dialog: Dialog | None = None
    done_at: float | None = None  # when the transaction's copies stop mattering (timer D)

    def __post_init__(self) -> None:
        self.invite = self._invite()

    # --- requests -----------------------------------------------------------------------------

    @property
    def request_uri(self) -> str:
        host = self.placement.target_host
        port = self.placement.target[1]
        return f"sip:{self.placement.to_user}@{host}:{port}{self._uri_params}"

    def _via(self, branch: str) -> str:
        return f"SIP/2.0/{self.placement.transport} {self._hostport};branch={branch};rport"

    @property
    def _hostport(self) -> str:
        return f"{self.local_host}:{self.local_port}"

    @property
    def _uri_params(self) -> str:
        return ";transport=tcp" if self.placement.reliable else ""

    def _from(self) -> str:
        return f"<sip:{self.placement.from_user}@{self.local_host}>;tag={self.local_tag}"

    def _to(self) -> str:
        return f"<sip:{self.placement.to_user}@{self.placement.target_host}>"

    def _invite(self, credentials: tuple[str, str] | None = None) -> SipRequest:
        headers = [
            ("Via", self._via(new_branch())),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", self._to()),
            ("Call-ID", self.placement.call_id),
            ("CSeq", f"{self.cseq} INVITE"),
            ("Contact", f"<sip:{self.placement.from_user}@{self._hostport}{self._uri_params}>"),
            ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"),
            ("User-Agent", USER_AGENT),
        ]
        if credentials is not None:
            headers.append(credentials)
        headers += list(self.placement.headers)
        headers.append(("Content-Type", "application/sdp"))
        return SipRequest(
            headers=headers, body=self.placement.offer, method="INVITE", uri=self.request_uri
        )

    def start(self, now: float) -> bytes:
        """The INVITE, sent now and re-sent by timer A (T1, doubling) until heard."""
        data = render(self.invite)
        self.retransmission = Retransmission.start(
            data, self.placement.target, now, cap=64 * T1, reliable=self.placement.reliable
        )
        return data

    def _ack_failure(self, response: SipResponse) -> bytes:
        """The ACK of a non-2xx final response: the INVITE's Via, its To as answered."""
        headers = [
            ("Via", self.invite.header("Via") or ""),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", response.header("To") or self._to()),
            ("Call-ID", self.placement.call_id),
            ("CSeq", f"{self.cseq} ACK"),
            ("User-Agent", USER_AGENT),
        ]
        self.ack = render(SipRequest(headers=headers, method="ACK", uri=self.request_uri))
        return self.ack

    def _cancel(self, now: float) -> bytes:
        headers = [
            ("Via", self.invite.header("Via") or ""),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", self._to()),
            ("Call-ID", self.placement.call_id),
            ("CSeq", f"{self.cseq} CANCEL"),
            ("User-Agent", USER_AGENT),
        ]
        data = render(SipRequest(headers=headers, method="CANCEL", uri=self.request_uri))
        self.cancel = Retransmission.start(
            data, self.placement.target, now, reliable=self.placement.reliable
        )
        return data

    # --- what happens -------------------------------------------------------------------------

    def hang_up(self, reason: str, now: float) -> list[bytes]:
        """Give up on a call not yet answered: CANCEL once it rings, else stop re-sending (and
        CANCEL if it rings after all)."""
        if self.state not in (PlacingState.CALLING, PlacingState.PROCEEDING):
            return []
        self.cancelled_for = reason
        self.cancelled_at = now
        self.state = PlacingState.CANCELLING
        if self.heard:
            return [self._cancel(now)]
        return []  # not ringing yet: the CANCEL goes when it does (section 9.1)

    def on_response(
        self, response: SipResponse, source: Address, now: float
    ) -> tuple[list[bytes], Outcome | None, bool]:
        """What to send, the failure (if the call failed now), and whether it was answered now."""
        method = response.cseq[1]
        if method == "CANCEL":
            if response.status >= 200:
                self.cancel = None
            return [], None, False
        if method != "INVITE" or response.cseq[0] != self.cseq:
            return [], None, False
        status = response.status
        if status < 200:
            return self._on_provisional(now), None, False
        self.retransmission = None
        self.cancel = None
        if status < 300:
            return self._on_success(response, source, now)
        if self.state in (PlacingState.FAILED, PlacingState.ANSWERED):
            return [self.ack] if self.state is PlacingState.FAILED else [], None, False
        ack = self._ack_failure(response)
        if status in (401, 407) and not self.authenticated and self.placement.username:
            retry = self._retry_with_credentials(response, now)
            if retry is not None:
                return [ack, retry], None, False
        self.state = PlacingState.FAILED
        self.done_at = now + TIMEOUT
        if self.cancelled_for and status == 487:
            return [ack], Outcome("no_answer", status, self.cancelled_for), False
        return [ack], outcome_of(status, response.reason), False

    def _on_provisional(self, now: float) -> list[bytes]:
        first = not self.heard
        self.heard = True
        self.retransmission = None  # heard: timer A stops; the ring timeout bounds the wait
        if self.state is PlacingState.CALLING:
            self.state = PlacingState.PROCEEDING
        if self.state is PlacingState.CANCELLING and first:
            return [self._cancel(now)]
        return []

    def _retry_with_credentials(self, response: SipResponse, now: float) -> bytes | None:
        proxy = response.status == 407
        challenge = response.header("Proxy-Authenticate" if proxy else "WWW-Authenticate")
        if not challenge:
            return None
        try:
            value = authorization(
                challenge,
                self.placement.username,
                self.placement.password,
                "INVITE",
                self.request_uri,
            )
        except DigestError:
            return None
        self.authenticated = True
        self.cseq += 1
        header = "Proxy-Authorization" if proxy else "Authorization"
        self.invite = self._invite((header, value))
        self.state, self.heard = PlacingState.CALLING, False
        return self.start(now)

    def _on_success(
        self, response: SipResponse, source: Address, now: float
    ) -> tuple[list[bytes], Outcome | None, bool]:
        contact = response.header("Contact")
        target = uri_of(contact) if contact else self.request_uri
        routes = list(reversed(response.header_values("Record-Route")))
        headers = [
            ("Via", self._via(new_branch())),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", response.header("To") or ""),
            ("Call-ID", self.placement.call_id),
            ("CSeq", f"{self.cseq} ACK"),
            *[("Route", route) for route in routes],
            ("User-Agent", USER_AGENT),
        ]
        if self.state is PlacingState.ANSWERED:
            return [self.ack], None, False  # the 200 re-sent: our ACK was lost
        self.ack = render(SipRequest(headers=headers, method="ACK", uri=target))
        answered_now = self.state is not PlacingState.CANCELLING
        self.state = PlacingState.ANSWERED
        self.done_at = now + TIMEOUT
        self.dialog = _dialog_of(self, response, source, target, routes)
        if not answered_now:  # answered as we cancelled: ACK, then the caller of hang_up BYEs
            return [self.ack], Outcome("no_answer", 200, self.cancelled_for), False
        return [self.ack], None, True

    def due(self, now: float) -> tuple[list[bytes], Outcome | None]:
        """Re-sends due now, and the failure if the call timed out now."""
        out: list[bytes] = []
        if self.cancel is not None and self.cancel.due(now):
            out.append(self.cancel.data)
        if self.state is PlacingState.PROCEEDING and now >= self._ring_deadline:
            out += self.hang_up(f"no answer within {self.placement.ring_timeout_s:g} s", now)
        if self.state is PlacingState.CALLING and now >= self._ring_deadline:
            self.hang_up(f"no answer within {self.placement.ring_timeout_s:g} s", now)
        cancelled_at = self.cancelled_at
        waited_out = cancelled_at is not None and now >= cancelled_at + TIMEOUT
        if self.state is PlacingState.CANCELLING and waited_out:  # its 487 never came
            return out, self._give_up(now, self.cancelled_for)
        retransmission = self.retransmission
        if retransmission is None:
            return out, None
        if retransmission.timed_out(now):  # timer B: the trunk never answered
            detail = self.cancelled_for or "the trunk did not answer the INVITE (timer B)"
            return out, self._give_up(now, detail)
        if retransmission.due(now):
            out.append(retransmission.data)
        return out, None

    def _give_up(self, now: float, detail: str) -> Outcome:
        self.retransmission = self.cancel = None
        self.state = PlacingState.FAILED
        self.done_at = now
        return Outcome("no_answer" if self.cancelled_for else "failed", 0, detail)

    @property
    def _ring_deadline(self) -> float:
        return self.started_at + self.placement.ring_timeout_s

    def finished(self, now: float) -> bool:
        """Nothing more can arrive that matters."""
        return self.done_at is not None and now >= self.done_at


def _dialog_of(
    call: PlacedCall, response: SipResponse, source: Address, target: str, routes: list[str]
) -> Dialog:
    """The dialog as the callee's side would see it, mirrored: `Dialog` builds in-dialog
    requests from the request that opened it, so it is given one with From and To swapped."""
    mirrored = [
        ("Via", call.invite.header("Via") or ""),
        ("From", response.header("To") or ""),
        ("To", call._from()),
        ("Call-ID", call.placement.call_id),
        ("CSeq", f"{call.cseq} INVITE"),
        ("Contact", f"<{target}>"),
        *[("Record-Route", route) for route in routes],
    ]
    opening = SipRequest(headers=mirrored, method="INVITE", uri=call.request_uri)
    dialog = Dialog(
        key=call.placement.call_id,
        invite=opening,
        transaction=("", ""),
        source=source,
        local_tag=call.local_tag,
        state=DialogState.CONFIRMED,
        local_cseq=call.cseq,
        transport=call.placement.transport,
    )
    return dialog


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(12)}@{host}"
