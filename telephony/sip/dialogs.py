"""A call's dialog as the answering side (RFC 3261 section 12): its ids, its 2xx until ACK,
and the requests we send inside it (BYE)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import Enum

from telephony.sip.message import SipRequest, header_params, uri_of
from telephony.sip.responses import USER_AGENT, new_branch
from telephony.sip.transactions import Address, Retransmission


class DialogState(Enum):
    RINGING = "ringing"  # the INVITE has no final answer yet
    ANSWERED = "answered"  # 200 sent, re-sent until its ACK
    CONFIRMED = "confirmed"  # ACK received
    ENDED = "ended"


def call_key(call_id: str, remote_tag: str) -> str:
    """A call as the caller names it: its Call-ID and the caller's From tag."""
    return f"{call_id};{remote_tag}"


@dataclass
class Dialog:
    """One inbound call, from its INVITE to its end."""

    key: str
    invite: SipRequest
    transaction: tuple[str, str]  # the INVITE server transaction's key
    source: Address  # where its signaling comes from: answers and our requests go there
    local_tag: str
    state: DialogState = DialogState.RINGING
    ok: Retransmission | None = None  # the 200, re-sent until ACK (section 13.3.1.4)
    ok_cseq: int = 0  # the CSeq of the INVITE that 200 answers (a re-INVITE's, later)
    local_cseq: int = field(default_factory=lambda: secrets.randbelow(2**20) + 1)
    transport: str = "UDP"  # or TCP: what our requests' Via names; nothing re-sent over TCP

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"

    @property
    def call_id(self) -> str:
        return self.invite.call_id

    @property
    def remote_tag(self) -> str:
        return self.invite.from_tag

    @property
    def remote_target(self) -> str:
        """Where in-dialog requests are addressed: the caller's Contact, else its From URI."""
        contact = self.invite.header("Contact")
        return uri_of(contact) if contact else uri_of(self.invite.header("From") or "")

    def matches(self, request: SipRequest) -> bool:
        """A request inside this dialog: the caller's tag in From and ours in To."""
        return request.to_tag == self.local_tag and request.from_tag == self.remote_tag

    def bye(self, via_host: str, via_port: int) -> SipRequest:
        """Our BYE: From and To swapped from the INVITE's, the record-routed path kept."""
        return self.request("BYE", via_host, via_port)

    def request(
        self,
        method: str,
        via_host: str,
        via_port: int,
        headers: list[tuple[str, str]] | None = None,
    ) -> SipRequest:
        """A request of ours inside the dialog (BYE, REFER), with the next CSeq."""
        self.local_cseq += 1
        to_header = self.invite.header("To") or ""
        if "tag" not in header_params(to_header):
            to_header = f"{to_header};tag={self.local_tag}"
        lines = [
            ("Via", f"SIP/2.0/{self.transport} {via_host}:{via_port};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", to_header),
            ("To", self.invite.header("From") or ""),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.local_cseq} {method}"),
        ]
        lines += [("Route", route) for route in self.invite.header_values("Record-Route")]
        lines += headers or []
        lines.append(("User-Agent", USER_AGENT))
        return SipRequest(headers=lines, method=method, uri=self.remote_target)
