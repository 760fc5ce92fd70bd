"""New offers inside an answered call, as the user agent answers them (RFC 3261 section 14,
re-INVITE; RFC 3311, UPDATE), sans-I/O.

A re-INVITE or UPDATE in a call becomes a `SessionOffered` event, held (`reoffers.py`) until
the application answers it: `accept_offer` sends 200 with our SDP (a re-INVITE's re-sent until
its ACK, as the first 200 was), `refuse_offer` a failure (488 when the offer has no codec in
common with the call's: the call goes on as it was). A second offer while one waits is 500
with Retry-After (section 14.2); a re-INVITE before the call's ACK, 491 (try again later).
"""

from __future__ import annotations

from telephony.sip.agent_base import AgentBase
from telephony.sip.dialogs import DialogState, call_key
from telephony.sip.events import Event
from telephony.sip.message import SipRequest
from telephony.sip.responses import ALLOWED_METHODS, build_response
from telephony.sip.transactions import Address, Retransmission


class OfferAnswering(AgentBase):
    """The user agent's side of offers inside a call."""

    def _on_offer(
        self, request: SipRequest, tx_key: tuple[str, str], source: Address, now: float
    ) -> list[Event]:
        """A re-INVITE or an UPDATE inside a call: held for the application's answer."""
        dialog = self._dialogs.get(call_key(request.call_id, request.from_tag))
        event = None
        headers: list[tuple[str, str]] = []
        if dialog is None or not dialog.matches(request):
            status = 481
        elif dialog.state is not DialogState.CONFIRMED and request.method == "INVITE":
            status = 491  # the first INVITE is not over (no ACK yet): try again later
        elif self._reoffers.waiting(dialog.key) == tx_key:
            return []  # a copy of the UPDATE that waits for its answer
        else:
            event = self._reoffers.offered(dialog, request, tx_key, source)
            status, headers = 500, [("Retry-After", "1")]  # one still waits (section 14.2)
        if event is not None:
            return [event]
        if request.method == "INVITE":
            response = build_response(request, status, source, headers=headers)
            self._invites[tx_key].rejected(self._send(response, source), now)
        else:
            self._answer(request, tx_key, source, now, status, headers=headers)
        return []

    def accept_offer(self, key: str, sdp: bytes, now: float) -> bool:
        """200 with our SDP for the offer `SessionOffered` told of; False if none waits."""
        dialog = self._dialogs.get(key)
        pending = self._reoffers.take(key)
        if dialog is None or pending is None:
            return False
        headers = [("Contact", self.contact(pending.source)), ("Allow", ALLOWED_METHODS)]
        headers += [("Content-Type", "application/sdp")] if sdp else []
        if pending.method == "UPDATE":
            self._answer(
                pending.request,
                pending.tx_key,
                pending.source,
                now,
                200,
                to_tag=dialog.local_tag,
                headers=headers,
                body=sdp,
            )
            return True
        response = build_response(pending.request, 200, pending.source, headers=headers, body=sdp)
        data = self._send(response, pending.source)
        self._invites[pending.tx_key].accepted(data, now)
        dialog.ok = Retransmission.start(data, pending.source, now)  # until its ACK
        dialog.ok_cseq = pending.request.cseq[0]
        return True

    def refuse_offer(self, key: str, status: int, reason: str, now: float) -> None:
        """Refuse the waiting offer (488 for no common codec); the call goes on as it was."""
        pending = self._reoffers.take(key)
        if pending is None:
            return
        if pending.method == "UPDATE":
            self._answer(
                pending.request, pending.tx_key, pending.source, now, status, reason=reason
            )
            return
        response = build_response(pending.request, status, pending.source, reason=reason)
        self._invites[pending.tx_key].rejected(self._send(response, pending.source), now)
