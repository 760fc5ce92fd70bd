"""What every SIP call does once its media flows, inbound or placed by us: run the session until
the SIP side or the agent ends it, then finish it through the one call lifecycle."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Protocol

from app.calls import lifecycle
from app.calls.runtime import VoiceRuntime
from app.config.credentials import CredentialBox
from app.db import sip_messages as message_queries
from app.db.sip_messages import LoggedSipMessage
from app.engine.session import CallSession
from app.engine.transport import TransferNotSupportedError
from telephony.sip.digest import DigestChecker
from telephony.sip.events import SessionOffered, TransferEnded
from telephony.sip.media import SipCallMedia
from telephony.sip.placing import Placement
from telephony.sip.sdp import SdpError, choose, parse_offer, render_answer


class Signaling(Protocol):
    """What a call needs of the SIP side (the server, over its user agent)."""

    def ring(self, key: str) -> None: ...

    def answer(self, key: str, sdp: bytes) -> bool: ...

    def reject(
        self,
        key: str,
        status: int,
        reason: str = "",
        retry_after: int = 0,
        headers: list[tuple[str, str]] | None = None,
    ) -> None: ...

    def hang_up(self, key: str) -> None: ...

    def refer(self, key: str, target: str) -> bool: ...

    def accept_offer(self, key: str, sdp: bytes) -> bool: ...

    def refuse_offer(self, key: str, status: int, reason: str) -> None: ...

    def place(self, placement: Placement, call: SipCall) -> str: ...

    def local_host_for(self, remote_host: str) -> str: ...

    @property
    def digest(self) -> DigestChecker: ...

    @property
    def credential_box(self) -> CredentialBox: ...


log = logging.getLogger(__name__)

MAX_LOGGED_MESSAGES = 500  # per call: a call that goes on for hours keeps its first 500
MAX_LOGGED_CHARS = 8_000  # per message


class SipCall(ABC):
    """One call's SIP side as the server sees it: ended by the far end (`end`) or by us
    (`hang_up`)."""

    def __init__(self, runtime: VoiceRuntime, signaling: Signaling, key: str) -> None:
        self.runtime = runtime
        self.signaling = signaling
        self.key = key
        self.media: SipCallMedia | None = None
        self._ended = asyncio.Event()
        self.reason = ""
        self.trunk_host = ""  # where a transfer's number is sent (sip:number@trunk_host)
        # The conversation the call is recorded as, once it is: its SIP messages are kept there.
        self.conversation_id = ""
        self.organization_id = ""
        self.sip_messages: list[LoggedSipMessage] = []
        self._transfer: asyncio.Future[TransferEnded] | None = None
        # Our SDP's address, RTP port and session id, and its version (re-INVITE, UPDATE).
        self.local_sdp: tuple[str, int, int] | None = None
        self._sdp_version = 0

    def end(self, reason: str) -> None:
        """The SIP side is over (BYE, CANCEL, no ACK): the call ends `reason`."""
        if not self._ended.is_set():
            self.reason = reason
            self._ended.set()

    def hang_up(self, reason: str) -> None:
        """We end the call (the agent, the media timeout): BYE, then the call ends `reason`."""
        self.signaling.hang_up(self.key)
        self.end(reason)

    def offered(self, event: SessionOffered) -> None:
        """A new offer in the call (RFC 3264 section 8): hold (`sendonly`, `inactive`,
        `c=0.0.0.0`), off hold, a new RTP address. Answered 200 with our SDP, its version one
        more; 488 when it no longer offers the call's codec (the call goes on as it was)."""
        media, local = self.media, self.local_sdp
        if media is None or local is None:
            self.signaling.refuse_offer(self.key, 491, "the call's media is not set up yet")
            return
        direction = "sendrecv"
        if event.offer:  # none: a re-INVITE asking for our offer, the session as it stands
            try:
                offer = parse_offer(event.offer)
                choose(offer, (media.answer.codec,))
            except SdpError as error:
                log.info("SIP call %s: new offer refused (%s)", self.key, error)
                self.signaling.refuse_offer(self.key, 488, str(error)[:120])
                return
            if offer.address not in ("0.0.0.0", "::"):
                media.follow((offer.address, offer.port))
            if offer.on_hold != media.on_hold:
                log.info("SIP call %s %s hold", self.key, "on" if offer.on_hold else "off")
            media.hold(offer.on_hold)
            direction = offer.answer_direction
        self._sdp_version += 1
        address, port, session_id = local
        version = session_id + self._sdp_version
        sdp = render_answer(
            media.answer, address, port, session_id, version=version, direction=direction
        )
        self.signaling.accept_offer(self.key, sdp)

    def log_message(self, message: LoggedSipMessage) -> None:
        if len(self.sip_messages) < MAX_LOGGED_MESSAGES:
            self.sip_messages.append(message)

    async def save_messages(self) -> None:
        """Keep the call's SIP messages with its conversation (none when it was never recorded:
        a caller refused before, for its address or credentials)."""
        if not self.conversation_id or not self.sip_messages:
            return
        messages = sorted(self.sip_messages, key=lambda m: m.created_at_unix_micro)
        self.sip_messages = []

        def save() -> None:
            with self.runtime.database.session() as db:
                message_queries.save_sip_messages(
                    db, self.organization_id, self.conversation_id, messages
                )

        try:
            await asyncio.to_thread(save)
        except Exception:
            log.exception("the SIP messages of call %s could not be kept", self.conversation_id)

    async def transfer(self, phone_number: str) -> None:
        """Hand the caller to `phone_number` with REFER (RFC 3515); returns once the trunk
        reports the person reached (NOTIFY `SIP/2.0 200`), else raises
        `TransferNotSupportedError` saying why, and the call goes on with the agent."""
        if self._transfer is not None and not self._transfer.done():
            raise TransferNotSupportedError("a transfer of this call is already under way")
        target = phone_number
        if not phone_number.startswith(("sip:", "sips:")):
            target = f"sip:{phone_number}@{self.trunk_host}"
        self._transfer = asyncio.get_running_loop().create_future()
        if not self.signaling.refer(self.key, target):
            raise TransferNotSupportedError("the call is not answered and acknowledged yet")
        timeout = self.runtime.settings.sip_transfer_timeout_s
        try:
            async with asyncio.timeout(timeout):
                ended = await asyncio.shield(self._transfer)
        except TimeoutError:
            raise TransferNotSupportedError(
                f"the trunk did not report the transfer done within {timeout:g} s"
            ) from None
        if not ended.succeeded:
            raise TransferNotSupportedError(f"the transfer failed: {ended.detail}")

    def transfer_ended(self, event: TransferEnded) -> None:
        if self._transfer is not None and not self._transfer.done():
            self._transfer.set_result(event)

    @abstractmethod
    async def take(self) -> None:
        """Set the call up and run it to its end."""

    async def run(self, session: CallSession, media: SipCallMedia) -> None:
        """Greet and listen until either side ends the call; then finish and save it."""
        try:
            if await lifecycle.start(self.runtime, session):
                ended = asyncio.create_task(self._ended.wait())
                closed = asyncio.create_task(session.wait_closed())
                await asyncio.wait({ended, closed}, return_when=asyncio.FIRST_COMPLETED)
                ended.cancel()
                closed.cancel()
            else:
                self.hang_up("start_failed")
        finally:
            if not self._ended.is_set():
                self.hang_up("agent_hung_up")
            await lifecycle.finish(self.runtime, session, self.reason)
            await media.close()
