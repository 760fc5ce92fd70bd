"""The sans-I/O SIP user agent that answers calls: datagrams and clock ticks in, datagrams and
call events out.

`receive(data, source, now)` and `tick(now)` return what happened to calls (`IncomingCall`,
`CallConfirmed`, `CallEnded`, ...); what to put on the wire collects in `datagrams()`. The
application decides about an `IncomingCall` with `ring`, `answer` or `reject`, about a
`SessionOffered` (re-INVITE, UPDATE: `reinvites.py`) with `accept_offer` or `refuse_offer`, and
ends an answered call with `hang_up`. Retransmissions, their timers and the transactions' matching
(RFC 3261 sections 13, 15, 17) happen here.
"""

from __future__ import annotations

from telephony.sip.dialogs import Dialog, DialogState, call_key
from telephony.sip.events import (
    CallAnswered,
    CallConfirmed,
    CallEnded,
    CallFailed,
    Event,
    HangUpFinished,
    IncomingCall,
    MessageRejected,
    SessionOffered,
    TransferEnded,
)
from telephony.sip.message import (
    MalformedSipMessageError,
    SipRequest,
    SipResponse,
    parse_message,
    sent_by,
    uri_of,
    uri_user,
)
from telephony.sip.placing import PlacedCall, Placement
from telephony.sip.reinvites import OfferAnswering
from telephony.sip.responses import ALLOWED_METHODS, build_response, new_tag
from telephony.sip.transactions import (
    Address,
    ClientTransaction,
    InviteServerTransaction,
    InviteState,
    Retransmission,
)

__all__ = [
    "CallAnswered",
    "CallConfirmed",
    "CallEnded",
    "CallFailed",
    "Event",
    "HangUpFinished",
    "IncomingCall",
    "MessageRejected",
    "SessionOffered",
    "TransferEnded",
    "UserAgent",
]


class UserAgent(OfferAnswering):
    """Answers calls on one SIP port and transport (UDP or TCP). `local_host_for(remote_host)`
    is the address the far end reaches us at (for Contact and Via); `local_port` the SIP port."""

    # --- input --------------------------------------------------------------------------------

    def receive(self, data: bytes, source: Address, now: float) -> list[Event]:
        if not data.strip():
            return []  # a keep-alive (RFC 5626 section 4.4.1)
        try:
            message = parse_message(data)
        except MalformedSipMessageError as error:
            if not error.answerable:
                return [MessageRejected(error.reason, answered=False)]
            response = build_response(
                error.headers, 400, source, to_tag=new_tag(), reason=error.detail
            )
            self._send(response, source)
            return [MessageRejected(error.reason, answered=True)]
        if isinstance(message, SipResponse):
            return self._on_response(message, source, now)
        return self._on_request(message, source, now)

    def _on_request(self, request: SipRequest, source: Address, now: float) -> list[Event]:
        tx_key = (request.branch, sent_by(request))
        if request.method == "INVITE":
            return self._on_invite(request, tx_key, source, now)
        if request.method == "ACK":
            return self._on_ack(request, tx_key, now)
        answered = self._answered.get((*tx_key, request.method))
        if answered is not None:  # a retransmission: the same answer again
            self._outbox.append((answered.response, source))
            return []
        if request.method == "CANCEL":
            return self._on_cancel(request, tx_key, source, now)
        if request.method == "BYE":
            return self._on_bye(request, tx_key, source, now)
        if request.method == "NOTIFY":
            return self._on_notify(request, tx_key, source, now)
        if request.method == "UPDATE":
            return self._on_offer(request, tx_key, source, now)
        if request.method == "OPTIONS":
            headers = [("Allow", ALLOWED_METHODS), ("Accept", "application/sdp")]
            self._answer(request, tx_key, source, now, 200, headers=headers)
            return []
        self._answer(request, tx_key, source, now, 405, headers=[("Allow", ALLOWED_METHODS)])
        return []

    def _on_invite(
        self, request: SipRequest, tx_key: tuple[str, str], source: Address, now: float
    ) -> list[Event]:
        transaction = self._invites.get(tx_key)
        key = call_key(request.call_id, request.from_tag)
        dialog = self._dialogs.get(key)
        if transaction is None and dialog is not None and not request.to_tag:
            transaction = self._invites.get(dialog.transaction)  # re-sent under a new branch
            if transaction is None:
                return []  # a very late copy of the INVITE of a call that goes on: absorbed
        if transaction is not None:  # a retransmission: the same call, answered the same
            if transaction.last_response:
                self._outbox.append((transaction.last_response, source))
            return []
        transaction = InviteServerTransaction(tx_key[0], source, self._reliable)
        self._invites[tx_key] = transaction
        if request.to_tag:  # a re-INVITE: hold, off hold, a new address
            return self._on_offer(request, tx_key, source, now)
        unsupported = request.header("Require")
        if unsupported:
            response = build_response(
                request, 420, source, to_tag=new_tag(), headers=[("Unsupported", unsupported)]
            )
            transaction.rejected(self._send(response, source), now)
            return []
        trying = self._send(build_response(request, 100, source), source)
        transaction.provisional(trying)
        dialog = Dialog(key, request, tx_key, source, new_tag(), transport=self._transport)
        self._dialogs[key] = dialog
        request_user = uri_user(request.uri)
        to_user = uri_user(uri_of(request.header("To") or ""))
        extra = {name: value for name, value in request.headers if name.lower().startswith("x-")}
        return [
            IncomingCall(
                key=key,
                number=request_user or to_user,
                caller=uri_user(uri_of(request.header("From") or "")),
                offer=request.body,
                content_type=(request.header("Content-Type") or "").lower(),
                source=source,
                extra_headers=extra,
                authorization=request.header("Authorization") or "",
            )
        ]

    def _on_ack(self, request: SipRequest, tx_key: tuple[str, str], now: float) -> list[Event]:
        transaction = self._invites.get(tx_key)
        if transaction is not None and transaction.state is InviteState.COMPLETED:
            transaction.on_ack(now)  # the ACK of a failure answer
            return []
        dialog = self._dialogs.get(call_key(request.call_id, request.from_tag))
        if dialog is None or not dialog.matches(request) or dialog.state is DialogState.RINGING:
            return []  # an ACK is never answered; a stray one is dropped
        if dialog.state is not DialogState.ANSWERED:
            if request.cseq[0] == dialog.ok_cseq:
                dialog.ok = None  # the ACK of a re-INVITE's 200
            return []
        dialog.state, dialog.ok = DialogState.CONFIRMED, None
        return [CallConfirmed(dialog.key)]

    def _on_cancel(
        self, request: SipRequest, tx_key: tuple[str, str], source: Address, now: float
    ) -> list[Event]:
        transaction = self._invites.get(tx_key)
        dialog = self._dialogs.get(call_key(request.call_id, request.from_tag))
        if transaction is None or dialog is None:
            self._answer(request, tx_key, source, now, 481)
            return []
        self._answer(request, tx_key, source, now, 200, to_tag=dialog.local_tag)
        if transaction.state is not InviteState.PROCEEDING:
            return []  # already answered: the CANCEL changes nothing (section 9.2)
        self._reject(dialog, 487, now)
        return [CallEnded(dialog.key, "cancelled")]

    def _on_bye(
        self, request: SipRequest, tx_key: tuple[str, str], source: Address, now: float
    ) -> list[Event]:
        dialog = self._dialogs.get(call_key(request.call_id, request.from_tag))
        if dialog is None or not dialog.matches(request) or dialog.state is DialogState.RINGING:
            self._answer(request, tx_key, source, now, 481)
            return []
        self._answer(request, tx_key, source, now, 200, to_tag=dialog.local_tag)
        self._end(dialog)
        return [CallEnded(dialog.key, "caller_hung_up")]

    def _on_notify(
        self, request: SipRequest, tx_key: tuple[str, str], source: Address, now: float
    ) -> list[Event]:
        """The trunk telling how our REFER goes (RFC 3515): a sipfrag of the transfer's status."""
        dialog = self._dialogs.get(call_key(request.call_id, request.from_tag))
        if dialog is None or not dialog.matches(request):
            self._answer(request, tx_key, source, now, 481)
            return []
        self._answer(request, tx_key, source, now, 200, to_tag=dialog.local_tag)
        return list(self._referrals.on_notify(dialog, request))

    def refer(self, key: str, target: str, now: float) -> bool:
        """Ask the trunk to transfer the caller to `target` (a SIP URI) with REFER; False when
        the call is not answered and acknowledged (or is over)."""
        dialog = self._dialogs.get(key) or self._placements.dialog(key)
        if dialog is None or dialog.state is not DialogState.CONFIRMED:
            return False
        via = (self._local_host_for(dialog.source[0]), self._local_port)
        contact = self.contact(dialog.source)
        self._outbox.append(self._referrals.refer(dialog, target, contact, via, now))
        return True

    def _on_response(self, response: SipResponse, source: Address, now: float) -> list[Event]:
        placed = self._placements.of(response)
        if placed is not None:
            datagrams, dialog, event = self._placements.on_response(placed, response, source, now)
            self._outbox += datagrams
            if dialog is not None:
                self._dialogs[call_key(dialog.call_id, dialog.remote_tag)] = dialog
                if isinstance(event, CallFailed):  # answered as we cancelled: BYE
                    self.hang_up(dialog.key, now)
            return [event] if event is not None else []
        transfers = self._referrals.on_response(response)
        if transfers is not None:
            return list(transfers)
        transaction = self._byes.get(response.branch)
        if transaction is None or not transaction.on_response(response.status):
            return []
        del self._byes[response.branch]
        return [HangUpFinished(transaction.call_key, answered=True)]

    # --- calls we place -------------------------------------------------------------------------

    def place(self, placement: Placement, now: float) -> str:
        """Send an INVITE for `placement`; its key (the Call-ID) names it in later events."""
        local_host = self._local_host_for(placement.target[0])
        placed = PlacedCall(placement, local_host, self._local_port, now)
        self._outbox += self._placements.start(placed, now)
        return placement.call_id

    # --- the application's decisions -----------------------------------------------------------

    def ring(self, key: str) -> None:
        """180 Ringing (the agent is being readied)."""
        dialog = self._dialogs.get(key)
        if dialog is None or dialog.state is not DialogState.RINGING:
            return
        response = build_response(
            dialog.invite,
            180,
            dialog.source,
            to_tag=dialog.local_tag,
            headers=[("Contact", self.contact(dialog.source))],
        )
        self._invites[dialog.transaction].provisional(self._send(response, dialog.source))

    def answer(self, key: str, sdp: bytes, now: float) -> bool:
        """200 OK with our SDP answer, re-sent until its ACK; False if the call is gone
        (cancelled meanwhile)."""
        dialog = self._dialogs.get(key)
        if dialog is None or dialog.state is not DialogState.RINGING:
            return False
        headers = [
            ("Contact", self.contact(dialog.source)),
            ("Allow", ALLOWED_METHODS),
            ("Content-Type", "application/sdp"),
        ]
        response = build_response(
            dialog.invite, 200, dialog.source, to_tag=dialog.local_tag, headers=headers, body=sdp
        )
        data = self._send(response, dialog.source)
        self._invites[dialog.transaction].accepted(data, now)
        dialog.state = DialogState.ANSWERED
        dialog.ok = Retransmission.start(data, dialog.source, now)
        dialog.ok_cseq = dialog.invite.cseq[0]
        return True

    def reject(
        self,
        key: str,
        status: int,
        now: float,
        *,
        reason: str = "",
        retry_after: int = 0,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        """A final failure for an unanswered call (401 with its challenge, 403, 404, 486...)."""
        dialog = self._dialogs.get(key)
        if dialog is not None and dialog.state is DialogState.RINGING:
            self._reject(
                dialog, status, now, reason=reason, retry_after=retry_after, headers=headers
            )

    def _reject(
        self,
        dialog: Dialog,
        status: int,
        now: float,
        *,
        reason: str = "",
        retry_after: int = 0,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        headers = list(headers or [])
        if retry_after:
            headers.append(("Retry-After", str(retry_after)))
        response = build_response(
            dialog.invite,
            status,
            dialog.source,
            to_tag=dialog.local_tag,
            reason=reason,
            headers=headers,
        )
        self._invites[dialog.transaction].rejected(self._send(response, dialog.source), now)
        self._end(dialog)

    def hang_up(self, key: str, now: float) -> bool:
        """End the call from our side: BYE once answered (re-sent by timer E), 480 before.
        False if the call is already over. A call we placed is cancelled while it rings."""
        cancelled = self._placements.cancel(key, now)
        if cancelled is not None:
            datagrams, going = cancelled
            self._outbox += datagrams
            return going
        dialog = self._dialogs.get(key) or self._placements.dialog(key)
        if dialog is None or dialog.state is DialogState.ENDED:
            return False
        if dialog.state is DialogState.RINGING:
            self._reject(dialog, 480, now)
            return True
        bye = dialog.bye(self._local_host_for(dialog.source[0]), self._local_port)
        data = self._send(bye, dialog.source)
        retransmission = Retransmission.start(data, dialog.source, now, reliable=dialog.reliable)
        self._byes[bye.branch] = ClientTransaction("BYE", dialog.key, retransmission)
        self._end(dialog)
        return True

    # --- time ---------------------------------------------------------------------------------

    def tick(self, now: float) -> list[Event]:
        """Re-send what is due and expire what is over; the calls that ended by a timer."""
        events: list[Event] = []
        for tx_key, transaction in list(self._invites.items()):
            self._outbox += transaction.due(now)
            if transaction.state is InviteState.TERMINATED:
                del self._invites[tx_key]
        for dialog in list(self._dialogs.values()):
            if dialog.ok is None:
                continue
            if dialog.ok.timed_out(now):  # no ACK in 64·T1: the call is over (section 13.3.1.4)
                self.hang_up(dialog.key, now)
                events.append(CallEnded(dialog.key, "no_ack"))
            elif dialog.ok.due(now):
                self._outbox.append((dialog.ok.data, dialog.ok.to))
        for answered_key, answered in list(self._answered.items()):
            if now >= answered.ends_at:
                del self._answered[answered_key]
        datagrams, placed_events = self._placements.tick(now)
        self._outbox += datagrams
        events += placed_events
        datagrams, transfers = self._referrals.tick(now)
        self._outbox += datagrams
        events += transfers
        for branch, bye in list(self._byes.items()):
            if bye.retransmission.timed_out(now):
                del self._byes[branch]
                events.append(HangUpFinished(bye.call_key, answered=False))
            elif bye.retransmission.due(now):
                self._outbox.append((bye.retransmission.data, bye.retransmission.to))
        return events
