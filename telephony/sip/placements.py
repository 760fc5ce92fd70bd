"""The calls a user agent places, by Call-ID: each one's INVITE transaction (`placing.py`) from
its first INVITE until nothing more of it can arrive and its dialog is over. Sans-I/O."""

from __future__ import annotations

from telephony.sip.dialogs import Dialog, DialogState
from telephony.sip.events import CallAnswered, CallFailed, Event
from telephony.sip.message import SipResponse
from telephony.sip.placing import PlacedCall, PlacingState
from telephony.sip.transactions import Address

Datagrams = list[tuple[bytes, Address]]


class Placements:
    def __init__(self) -> None:
        self._calls: dict[str, PlacedCall] = {}

    def start(self, placed: PlacedCall, now: float) -> Datagrams:
        """Its INVITE, to send now."""
        self._calls[placed.placement.call_id] = placed
        return [(placed.start(now), placed.placement.target)]

    def dialog(self, key: str) -> Dialog | None:
        """The dialog a placed call made once answered."""
        placed = self._calls.get(key)
        return placed.dialog if placed is not None else None

    def of(self, response: SipResponse) -> PlacedCall | None:
        """The placed call a response to our INVITE or CANCEL belongs to."""
        if response.cseq[1] not in ("INVITE", "CANCEL"):
            return None
        return self._calls.get(response.call_id)

    def on_response(
        self, placed: PlacedCall, response: SipResponse, source: Address, now: float
    ) -> tuple[Datagrams, Dialog | None, Event | None]:
        """What to send, the dialog the call made now (if it did), and what to tell."""
        was_answered = placed.dialog is not None
        datagrams, outcome, answered = placed.on_response(response, source, now)
        new_dialog = placed.dialog if not was_answered else None
        key = placed.placement.call_id
        event: Event | None = None
        if outcome is not None:
            event = CallFailed(key, outcome)
        elif answered:
            event = CallAnswered(key, response.body, source)
        return [(data, source) for data in datagrams], new_dialog, event

    def cancel(self, key: str, now: float) -> tuple[Datagrams, bool] | None:
        """Give up on a placed call not yet answered (CANCEL once it rings); None when `key` is
        no such call. The flag says whether the call was still going."""
        placed = self._calls.get(key)
        if placed is None or placed.state is PlacingState.ANSWERED:
            return None
        datagrams = placed.hang_up("hung up before the answer", now)
        going = placed.state is PlacingState.CANCELLING
        return [(data, placed.placement.target) for data in datagrams], going

    def tick(self, now: float) -> tuple[Datagrams, list[Event]]:
        """Re-sends due now, the calls that failed by a timer, and the over ones forgotten."""
        out: Datagrams = []
        events: list[Event] = []
        for call_id, placed in list(self._calls.items()):
            datagrams, outcome = placed.due(now)
            out += [(data, placed.placement.target) for data in datagrams]
            if outcome is not None:
                events.append(CallFailed(call_id, outcome))
            over = placed.dialog is None or placed.dialog.state is DialogState.ENDED
            if placed.finished(now) and over:
                del self._calls[call_id]
        return out, events
