"""What the SIP user agent keeps and how it sends (sans-I/O): its transactions, dialogs and
outbox, the answers to non-INVITE requests, a call's end. `UserAgent` builds on it; the
re-INVITE and UPDATE handling (`reinvites.py`) too."""

from __future__ import annotations

from collections.abc import Callable

from telephony.sip.dialogs import Dialog, DialogState, call_key
from telephony.sip.message import SipRequest, SipResponse, render
from telephony.sip.placements import Placements
from telephony.sip.referrals import Referrals
from telephony.sip.reoffers import Reoffers
from telephony.sip.responses import build_response, new_tag
from telephony.sip.transactions import (
    TIMEOUT,
    Address,
    ClientTransaction,
    InviteServerTransaction,
    ServerTransaction,
)


class AgentBase:
    """The state of a user agent on one SIP port and transport, and its way of sending."""

    def __init__(
        self, local_host_for: Callable[[str], str], local_port: int, transport: str = "UDP"
    ) -> None:
        self._local_host_for = local_host_for
        self._local_port = local_port
        self._transport = transport  # UDP, or TCP: nothing re-sent but the 2xx (section 13.3.1.4)
        self._reliable = transport != "UDP"
        self._outbox: list[tuple[bytes, Address]] = []
        self._invites: dict[tuple[str, str], InviteServerTransaction] = {}
        self._answered: dict[tuple[str, str, str], ServerTransaction] = {}
        self._dialogs: dict[str, Dialog] = {}
        self._byes: dict[str, ClientTransaction] = {}
        self._placements = Placements()
        self._referrals = Referrals()
        self._reoffers = Reoffers()

    # --- what to send -------------------------------------------------------------------------

    def datagrams(self) -> list[tuple[bytes, Address]]:
        """Everything to send since the last call, in order."""
        out, self._outbox = self._outbox, []
        return out

    def _send(self, message: SipRequest | SipResponse, to: Address) -> bytes:
        data = render(message)
        self._outbox.append((data, to))
        return data

    def contact(self, source: Address) -> str:
        params = ";transport=tcp" if self._reliable else ""
        return f"<sip:velox@{self._local_host_for(source[0])}:{self._local_port}{params}>"

    def _answer(
        self,
        request: SipRequest,
        tx_key: tuple[str, str],
        source: Address,
        now: float,
        status: int,
        *,
        to_tag: str = "",
        headers: list[tuple[str, str]] | None = None,
        reason: str = "",
        body: bytes = b"",
    ) -> None:
        """Answer a non-INVITE request at once, and remember it for its retransmissions."""
        response = build_response(
            request,
            status,
            source,
            to_tag=to_tag or new_tag(),
            headers=headers,
            reason=reason,
            body=body,
        )
        data = self._send(response, source)
        self._answered[(*tx_key, request.method)] = ServerTransaction(data, now + TIMEOUT)

    def _end(self, dialog: Dialog) -> None:
        self._reoffers.forget(dialog.key)
        dialog.state, dialog.ok = DialogState.ENDED, None
        self._dialogs.pop(call_key(dialog.call_id, dialog.remote_tag), None)

    @property
    def calls(self) -> int:
        """Calls ringing or answered."""
        return len(self._dialogs)

    def uses(self, address: Address) -> bool:
        """A call's signaling goes to `address` (its TCP connection is still needed)."""
        return any(dialog.source == address for dialog in self._dialogs.values())
