"""The offers inside answered calls (re-INVITE, UPDATE) waiting for the application's answer,
one at a time per call (see `reinvites.py`), sans-I/O."""

from __future__ import annotations

from dataclasses import dataclass

from telephony.sip.dialogs import Dialog
from telephony.sip.events import SessionOffered
from telephony.sip.message import SipRequest
from telephony.sip.transactions import Address


@dataclass(frozen=True)
class PendingOffer:
    request: SipRequest
    tx_key: tuple[str, str]
    source: Address

    @property
    def method(self) -> str:
        return self.request.method


class Reoffers:
    def __init__(self) -> None:
        self._pending: dict[str, PendingOffer] = {}  # by call key

    def offered(
        self, dialog: Dialog, request: SipRequest, tx_key: tuple[str, str], source: Address
    ) -> SessionOffered | None:
        """The event for a new offer; None when one is already waiting for its answer."""
        if dialog.key in self._pending:
            return None
        self._pending[dialog.key] = PendingOffer(request, tx_key, source)
        content_type = (request.header("Content-Type") or "").lower()
        return SessionOffered(dialog.key, request.method, request.body, content_type)

    def waiting(self, key: str) -> tuple[str, str] | None:
        """The transaction of the offer waiting in call `key`, if one does."""
        pending = self._pending.get(key)
        return pending.tx_key if pending is not None else None

    def take(self, key: str) -> PendingOffer | None:
        """The offer waiting for its answer, no longer waiting."""
        return self._pending.pop(key, None)

    def forget(self, key: str) -> None:
        self._pending.pop(key, None)
