"""Our transfers (RFC 3515), sans-I/O: REFERs sent inside a call's dialog and re-sent until the
trunk answers, and the NOTIFYs whose sipfrag tells how each ends."""

from __future__ import annotations

from telephony.sip.dialogs import Dialog
from telephony.sip.events import TransferEnded
from telephony.sip.message import SipRequest, SipResponse, render, sipfrag_status
from telephony.sip.transactions import Address, ClientTransaction, Retransmission


class Referrals:
    def __init__(self) -> None:
        self._sent: dict[str, ClientTransaction] = {}  # by branch

    def refer(
        self, dialog: Dialog, target: str, contact: str, via: Address, now: float
    ) -> tuple[bytes, Address]:
        """A REFER of the caller to `target` (a SIP URI), to send now."""
        headers = [("Refer-To", f"<{target}>"), ("Referred-By", contact), ("Contact", contact)]
        request = dialog.request("REFER", via[0], via[1], headers)
        data = render(request)
        retransmission = Retransmission.start(data, dialog.source, now, reliable=dialog.reliable)
        self._sent[request.branch] = ClientTransaction("REFER", dialog.key, retransmission)
        return data, dialog.source

    def on_response(self, response: SipResponse) -> list[TransferEnded] | None:
        """What an answer to one of our REFERs tells (None: not an answer to a REFER of ours)."""
        refer = self._sent.get(response.branch)
        if refer is None:
            return None
        if not refer.on_response(response.status):
            return []
        del self._sent[response.branch]
        if response.status < 300:
            return []  # accepted: its NOTIFYs tell how it ends
        detail = f"the trunk refused the transfer: {response.status} {response.reason}"
        return [TransferEnded(refer.call_key, succeeded=False, detail=detail)]

    @staticmethod
    def on_notify(dialog: Dialog, request: SipRequest) -> list[TransferEnded]:
        """A NOTIFY inside the call: a final sipfrag status ends the transfer."""
        if not (request.header("Event") or "").lower().startswith("refer"):
            return []
        status, phrase = sipfrag_status(request.body)
        if status < 200:
            return []
        detail = f"{status} {phrase}".strip()
        return [TransferEnded(dialog.key, succeeded=status < 300, detail=detail)]

    def tick(self, now: float) -> tuple[list[tuple[bytes, Address]], list[TransferEnded]]:
        """Re-sends due now, and the transfers given up (no answer in 64·T1)."""
        out: list[tuple[bytes, Address]] = []
        ended: list[TransferEnded] = []
        for branch, refer in list(self._sent.items()):
            if refer.retransmission.timed_out(now):
                del self._sent[branch]
                detail = "the trunk did not answer the REFER"
                ended.append(TransferEnded(refer.call_key, succeeded=False, detail=detail))
            elif refer.retransmission.due(now):
                out.append((refer.retransmission.data, refer.retransmission.to))
        return out, ended
