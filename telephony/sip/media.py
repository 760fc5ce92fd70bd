"""One SIP call's media: its RTP socket, our 20 ms send clock, and the engine's `CallTransport`.

A trunk plays what it receives the moment it arrives, so we pace ourselves: agent frames wait in
a queue that holds at most the engine's playout lead, and a clock sends one every 20 ms. `clear`
empties the queue at once; a mark is confirmed when the frame before it leaves. RTP goes to where
the caller's RTP comes from (symmetric RTP, for callers behind NAT), to the SDP's address until
the first packet arrives. A call whose caller sends nothing for the media timeout is hung up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable

from app.aio import cancel_and_wait
from app.audio.formats import AudioFormat
from app.engine.session import CallSession
from app.observability.metrics import MALFORMED_FRAMES
from telephony.audio import InboundConverter, OutboundEncoder
from telephony.sip.reorder import ReorderBuffer
from telephony.sip.rtp import (
    SAMPLES_PER_FRAME,
    DigitReceiver,
    DigitTick,
    MalformedRtpPacketError,
    RtpPacket,
    RtpSender,
    digit_ticks,
)
from telephony.sip.sdp import Answer
from telephony.sip.transactions import Address

log = logging.getLogger(__name__)

CHANNEL = "sip"
FRAME_S = 0.02


class NoRtpPortError(OSError):
    """Every port of the RTP range is taken: the call cannot be answered (503)."""


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, Address], None]) -> None:
        self._on_packet = on_packet

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._on_packet(data, (str(addr[0]), int(addr[1])))


async def open_rtp_socket(
    host: str, port_min: int, port_max: int, on_packet: Callable[[bytes, Address], None]
) -> tuple[asyncio.DatagramTransport, int]:
    """A UDP socket on a free even port of the range (RTP's convention), tried from a random
    start so calls spread over it."""
    ports = list(range(port_min + port_min % 2, port_max + 1, 2))
    if not ports:
        raise NoRtpPortError(f"the RTP port range {port_min}-{port_max} holds no even port")
    start = random.randrange(len(ports))
    loop = asyncio.get_running_loop()
    for port in ports[start:] + ports[:start]:
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Socket(on_packet), local_addr=(host, port)
            )
        except OSError:
            continue
        return transport, port
    raise NoRtpPortError(f"every port of the RTP range {port_min}-{port_max} is in use")


class SipCallMedia:
    """The engine's `CallTransport` over one call's RTP stream."""

    frames_per_message = 1  # one RTP packet per frame, on the send clock

    def __init__(
        self,
        answer: Answer,
        offered_to: Address,
        *,
        lead_ms: int,
        media_timeout_s: float,
        on_hang_up: Callable[[str], None],
        on_transfer: Callable[[str], Awaitable[None]],
    ) -> None:
        self.answer = answer
        self.remote = offered_to
        self._offered_to = offered_to
        self._latched = False
        self.on_hold = False  # the far end holds the call: nothing is sent, silence is no fault
        self._format = answer.audio_format
        self._sender = RtpSender(answer.payload_type)
        self._inbound = InboundConverter(self._format)
        self._digits = DigitReceiver()
        self._reorder: ReorderBuffer[bytes] = ReorderBuffer()  # the caller's audio payloads
        # Frames (bytes) and marks (str) in the order the engine sent them.
        self._queue: deque[bytes | str] = deque()
        # The agent's keys (RFC 4733), sent in place of audio, tick by tick.
        self._keys: deque[DigitTick | None] = deque()
        self._key_start = 0
        self._keys_sent = asyncio.Event()
        self._queued_frames = 0
        self._capacity = max(1, lead_ms // 20)
        self._room = asyncio.Event()
        self._media_timeout_s = media_timeout_s
        self._on_hang_up = on_hang_up
        self._on_transfer = on_transfer
        self._socket: asyncio.DatagramTransport | None = None
        self._clock: asyncio.Task[None] | None = None
        self.session: CallSession | None = None
        self.closed = False
        self.last_heard = asyncio.get_running_loop().time()
        self.packets_received = 0
        self.digits_received = 0

    # --- set-up -------------------------------------------------------------------------------

    def start(self, socket: asyncio.DatagramTransport) -> None:
        """Begin sending (the clock) on the call's RTP socket."""
        self._socket = socket
        self.last_heard = asyncio.get_running_loop().time()
        self._clock = asyncio.get_running_loop().create_task(self._run_clock())

    def hold(self, on_hold: bool) -> None:
        """The far end put the call on hold (or took it off): our RTP stops (the agent's frames
        still leave the queue on the clock, unheard), its silence does not time out and the
        agent's silence rules wait (the caller is away, not silent). The change is an event of
        the call (`hold`, `unhold`)."""
        if on_hold != self.on_hold and self.session is not None:
            self.session.log.event("hold" if on_hold else "unhold")
            self.session.line_held(on_hold)
        self.on_hold = on_hold

    def follow(self, offered_to: Address) -> None:
        """A new offer names another RTP address: send there, and latch again on the first
        packet that comes (an unchanged address keeps the latched one: NAT)."""
        if offered_to != self._offered_to:
            self._offered_to = self.remote = offered_to
            self._latched = False

    def attach(self, session: CallSession) -> None:
        """The session that hears the caller: audio before it exists is not kept."""
        self.session = session

    async def close(self) -> None:
        self.closed = True
        self._room.set()
        self._keys_sent.set()
        if self._clock is not None:
            await cancel_and_wait(self._clock)
        if self._socket is not None:
            self._socket.close()

    # --- the caller's packets -----------------------------------------------------------------

    def packet_received(self, data: bytes, source: Address) -> None:
        if self.closed:
            return
        try:
            packet = RtpPacket.parse(data)
        except MalformedRtpPacketError as error:
            self._count_malformed(error.reason)
            return
        if not self._latched:  # symmetric RTP: answer where the caller's media comes from
            self.remote, self._latched = source, True
        elif source != self.remote:
            self._count_malformed("foreign_source")
            return
        self.last_heard = now = asyncio.get_running_loop().time()
        self.packets_received += 1
        if packet.payload_type == self.answer.telephone_event:
            # Its place in the numbering is taken: audio waiting behind it plays on.
            self._play(self._reorder.push(packet.ssrc, packet.sequence, None, now).released)
            try:
                digit = self._digits.receive(packet)
            except MalformedRtpPacketError as error:
                self._count_malformed(error.reason)
                return
            if digit is not None and self.session is not None:
                self.digits_received += 1
                self.session.on_dtmf(digit)
            return
        if packet.payload_type != self.answer.payload_type:
            self._count_malformed("unexpected_payload_type")
            return
        pushed = self._reorder.push(packet.ssrc, packet.sequence, packet.payload, now)
        if pushed.dropped:
            self._count_malformed("late_or_duplicate")
            return
        self._play(pushed.released)

    def _play(self, payloads: list[bytes]) -> None:
        for payload in payloads:
            frames = self._inbound.push(payload)
            if self.session is not None:
                for frame in frames:
                    self.session.push_audio(frame)

    def _count_malformed(self, reason: str) -> None:
        MALFORMED_FRAMES.labels(channel=CHANNEL, reason=reason).inc()
        if self.session is not None:
            self.session.count_malformed(reason)

    # --- our send clock -----------------------------------------------------------------------

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not self.closed:
            self._tick()
            now = loop.time()
            self._play(self._reorder.due(now))  # what waited too long behind a gap
            if self.on_hold:
                self.last_heard = now
            if now - self.last_heard > self._media_timeout_s:
                log.warning("SIP call: no RTP for %.0f s, hanging up", self._media_timeout_s)
                self._on_hang_up("media_timeout")
                return
            next_at += FRAME_S
            if next_at < now - 10 * FRAME_S:  # the loop stalled: no burst to catch up
                next_at = now
            await asyncio.sleep(max(next_at - now, 0))

    def _tick(self) -> None:
        if self._keys:
            self._send_key_tick(self._keys.popleft())
            return
        self._confirm_marks()
        if not self._queue:
            self._room.set()  # drained: a `send_digits` waiting for the words goes on
            self._sender.silent_frame()
            return
        frame = self._queue.popleft()
        assert isinstance(frame, bytes)
        self._queued_frames -= 1
        self._room.set()
        packet = self._sender.frame(frame)
        if self._socket is not None and not self.on_hold:
            self._socket.sendto(packet, self.remote)
        self._confirm_marks()

    def _send_key_tick(self, tick: DigitTick | None) -> None:
        if tick is not None and self._socket is not None:
            first = tick.duration == SAMPLES_PER_FRAME and not tick.end
            if first:
                self._key_start = self._sender.timestamp
            packet = self._sender.telephone_event(
                self.answer.telephone_event or 101, self._key_start, tick, first=first
            )
            if not self.on_hold:
                self._socket.sendto(packet, self.remote)
        self._sender.silent_frame()
        if not self._keys:
            self._keys_sent.set()

    def _confirm_marks(self) -> None:
        while self._queue and isinstance(self._queue[0], str):
            name = self._queue.popleft()
            assert isinstance(name, str)
            if self.session is not None:
                self.session.on_mark(name)

    # --- CallTransport --------------------------------------------------------------------------

    @property
    def output_format(self) -> AudioFormat:
        return self._format

    def new_encoder(self) -> OutboundEncoder:
        return OutboundEncoder(self._format)

    async def send_audio(self, frame: bytes) -> None:
        while self._queued_frames >= self._capacity and not self.closed:
            self._room.clear()
            await self._room.wait()
        if not self.closed:
            self._queue.append(frame)
            self._queued_frames += 1

    async def send_mark(self, name: str) -> None:
        if not self.closed:
            self._queue.append(name)

    async def send_clear(self) -> None:
        """Drop every frame not yet sent; the marks among them are never confirmed."""
        self._queue.clear()
        self._queued_frames = 0
        self._room.set()

    async def hang_up(self) -> None:
        self._on_hang_up("agent_hung_up")

    async def send_digits(self, digits: str) -> None:
        """Press `digits` as RFC 4733 telephone-events after the audio already queued; back
        once the last end packet has left. Refused when the far end offered no
        telephone-event."""
        if self.answer.telephone_event is None:
            raise RuntimeError("the far end did not offer telephone-event (RFC 4733)")
        ticks = digit_ticks(digits)
        while self._queue and not self.closed:  # the agent's words first
            self._room.clear()
            await self._room.wait()
        if self.closed or not ticks:
            return
        self._keys_sent.clear()
        self._keys.extend(ticks)
        await self._keys_sent.wait()

    async def transfer(self, phone_number: str) -> None:
        """REFER the caller to `phone_number`; raises `TransferNotSupportedError` with why when
        the trunk does not complete it."""
        await self._on_transfer(phone_number)
