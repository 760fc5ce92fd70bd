"""A lean SIP trunk caller for the SIP bench, cheap enough to hold a hundred calls from one
process: one UDP socket for every call's signalling (`SipPhone`), one RTP socket per call
(`SipLine`), the caller's PCMU sent every 20 ms on an absolute schedule, and the agent's RTP
kept as arrival times and RTP timestamps (no audio). Times are `time.monotonic()` seconds.

What a call measures (`SipLineRecord`): frame lateness within each agent response (packet n
against the response's first packet + n × 20 ms, as the Twilio bench's lines measure it; an
underrun of the send clock shows as lateness), send jitter (each packet's spacing against its
RTP timestamp's), and a barge-in's time to the agent's last RTP packet (the SIP line has no
`clear` message: the stream stops)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import secrets
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from typing import cast

from bench.phone_line import FRAME_S, Utterance
from telephony.audio import MULAW_SILENCE
from telephony.sip.message import SipRequest, SipResponse, parse_message
from telephony.sip.rtp import RtpSender

FRAME_BYTES = 160
SILENCE = bytes([MULAW_SILENCE]) * FRAME_BYTES
RESPONSE_GAP_S = 0.4  # agent audio this far apart is two responses
CLEARED_GAP_S = 0.1  # after a barge-in, a gap this long means the agent's audio stopped
_LOCAL = "127.0.0.1"


@dataclass
class SipLineRecord:
    number: int
    connected_at: float | None = None
    ended_at: float | None = None
    error: str = ""
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # agent RTP: (at, timestamp)
    barge_ins: list[float] = field(default_factory=list)  # first speech frame over the agent
    responses_missing: int = 0

    @property
    def call_seconds(self) -> float:
        if self.connected_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.connected_at

    def lateness_ms(self) -> list[float]:
        late: list[float] = []
        first = 0.0
        count = 0
        previous = None
        for at, _ in self.arrivals:
            if previous is None or at - previous > RESPONSE_GAP_S:
                first, count = at, 0
            late.append(max(0.0, (at - (first + count * FRAME_S)) * 1000))
            count += 1
            previous = at
        return late

    def jitter_ms(self) -> list[float]:
        jitter = []
        for (at_a, ts_a), (at_b, ts_b) in itertools.pairwise(self.arrivals):
            spacing = ((ts_b - ts_a) & 0xFFFFFFFF) / 8000
            if spacing <= 10 * FRAME_S:  # within a stretch of audio
                jitter.append(abs((at_b - at_a) - spacing) * 1000)
        return jitter

    def barge_in_to_last_packet_ms(self) -> list[float]:
        found = []
        times = [at for at, _ in self.arrivals]
        for started in self.barge_ins:
            later = [at for at in times if at >= started]
            last = started
            for at in later:
                if at - last > CLEARED_GAP_S and last > started:
                    break
                last = at
            found.append((last - started) * 1000)
        return found


class _Rtp(asyncio.DatagramProtocol):
    def __init__(self, record: SipLineRecord) -> None:
        self._record = record
        self.last_at = 0.0

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if len(data) < 12 or data[1] & 0x7F != 0:  # PCMU only: the agent's keys are not audio
            return
        now = time.monotonic()
        self.last_at = now
        self._record.arrivals.append((now, struct.unpack_from("!I", data, 4)[0]))


class SipPhone(asyncio.DatagramProtocol):
    """The trunk's signalling socket: requests out, responses (and the service's requests)
    routed to their line by Call-ID."""

    def __init__(self, service: tuple[str, int]) -> None:
        self.service = service
        self.lines: dict[str, SipLine] = {}
        self.transport: asyncio.DatagramTransport | None = None

    @property
    def port(self) -> int:
        assert self.transport is not None
        port: int = self.transport.get_extra_info("sockname")[1]
        return port

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(_LOCAL, 0))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.sendto(data, self.service)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            message = parse_message(data)
        except ValueError:
            return
        line = self.lines.get(message.call_id)
        if line is not None:
            line.on_sip(message)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SipLine:
    """One call: INVITE, ACK, the caller's audio on the clock, BYE."""

    def __init__(self, phone: SipPhone, number: str, index: int) -> None:
        self.phone = phone
        self.number = number
        self.record = SipLineRecord(index)
        self.call_id = f"bench-{secrets.token_hex(8)}@{_LOCAL}"
        self._tag = secrets.token_hex(4)
        self._to_tag = ""
        self._answered: asyncio.Future[SipResponse] = asyncio.get_running_loop().create_future()
        self._bye_answered = asyncio.Event()
        self._rtp: asyncio.DatagramTransport | None = None
        self._rtp_protocol = _Rtp(self.record)
        self._remote: tuple[str, int] | None = None
        self._frames: deque[bytes] = deque()
        self._barge_in_pending = False
        self._speech_done = asyncio.Event()
        self._spoke_at = 0.0
        self._sender_task: asyncio.Task[None] | None = None
        self._hung_up = False

    # --- signalling -----------------------------------------------------------------------------

    def on_sip(self, message: SipRequest | SipResponse) -> None:
        if isinstance(message, SipResponse):
            method = message.cseq[1]
            if method == "INVITE" and message.status >= 200 and not self._answered.done():
                self._answered.set_result(message)
            elif method == "BYE":
                self._bye_answered.set()
        elif message.method == "BYE":  # the agent hung up
            self._hung_up = True
            self.phone.send(_response_to(message, 200))

    def _request(self, method: str, cseq: int, body: str = "") -> bytes:
        to_tag = f";tag={self._to_tag}" if self._to_tag else ""
        content_type = "Content-Type: application/sdp\r\n" if body else ""
        port = self.phone.port
        return (
            f"{method} sip:{self.number}@{_LOCAL}:{self.phone.service[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {_LOCAL}:{port};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:+15552223333@{_LOCAL}>;tag={self._tag}\r\n"
            f"To: <sip:{self.number}@{_LOCAL}>{to_tag}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {cseq} {method}\r\n"
            f"Contact: <sip:trunk@{_LOCAL}:{port}>\r\n"
            f"{content_type}Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()

    async def place(self, timeout_s: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        self._rtp, _ = await loop.create_datagram_endpoint(
            lambda: self._rtp_protocol, local_addr=(_LOCAL, 0)
        )
        rtp_port = self._rtp.get_extra_info("sockname")[1]
        self.phone.lines[self.call_id] = self
        invite = self._request("INVITE", 1, _offer(rtp_port))
        deadline = loop.time() + timeout_s
        wait = 0.5
        while not self._answered.done():
            self.phone.send(invite)  # retransmitted (timer A) until a final answer
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._answered), wait)
            wait = min(wait * 2, 4.0)
            if loop.time() > deadline and not self._answered.done():
                raise TimeoutError(f"no final answer to the INVITE within {timeout_s:.0f} s")
        answer = self._answered.result()
        if answer.status != 200:
            raise RuntimeError(f"refused: {answer.status} {answer.reason}")
        self._to_tag = answer.to_tag
        self._remote = _media_address(answer.body)
        self.phone.send(self._request("ACK", 1))
        self.record.connected_at = time.monotonic()
        self._sender_task = loop.create_task(self._send_loop())

    async def hang_up(self) -> None:
        if self._sender_task is not None:
            self._sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender_task
        if self.record.connected_at is not None and not self._hung_up:
            bye = self._request("BYE", 2)
            for wait in (0.5, 1.0, 2.0):
                self.phone.send(bye)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._bye_answered.wait(), wait)
                    break
        self.record.ended_at = time.monotonic()
        self.phone.lines.pop(self.call_id, None)
        if self._rtp is not None:
            self._rtp.close()

    # --- media ------------------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        assert self._rtp is not None
        assert self._remote is not None
        sender = RtpSender(0)
        started = time.monotonic()
        for tick in itertools.count(1):
            if self._frames:
                frame = self._frames.popleft()
                if self._barge_in_pending:
                    self._barge_in_pending = False
                    if time.monotonic() - self._rtp_protocol.last_at < 0.1:  # over the agent
                        self.record.barge_ins.append(time.monotonic())
                if not self._frames:
                    self._spoke_at = time.monotonic()
                    self._speech_done.set()
            else:
                frame = SILENCE
            self._rtp.sendto(sender.frame(frame), self._remote)
            await asyncio.sleep(max(0.0, started + tick * FRAME_S - time.monotonic()))

    async def speak(self, utterance: Utterance, *, barge_in: bool = False) -> None:
        """Say `utterance` (its frames go out on the clock); back once its last frame left."""
        self._speech_done.clear()
        self._barge_in_pending = barge_in
        self._frames.extend(base64.b64decode(p) for p in utterance.payloads)
        await self._speech_done.wait()

    async def wait_response(self, timeout_s: float) -> bool:
        """Wait for agent audio after the caller last spoke (or the greeting, first)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._rtp_protocol.last_at > self._spoke_at:
                return True
            await asyncio.sleep(0.01)
        self.record.responses_missing += 1
        return False

    async def wait_played(self, timeout_s: float, quiet_s: float = 0.3) -> None:
        """Wait until the agent has been silent for `quiet_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if time.monotonic() - self._rtp_protocol.last_at >= quiet_s:
                return
            await asyncio.sleep(0.02)


def _offer(rtp_port: int) -> str:
    return (
        "v=0\r\n"
        f"o=trunk 1 1 IN IP4 {_LOCAL}\r\n"
        "s=bench\r\n"
        f"c=IN IP4 {_LOCAL}\r\n"
        "t=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP 0 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=ptime:20\r\n"
    )


def _media_address(sdp: bytes) -> tuple[str, int]:
    host, port = "", 0
    for line in sdp.decode().splitlines():
        if line.startswith("c="):
            host = line.split()[-1]
        elif line.startswith("m=audio"):
            port = int(line.split()[1])
    return host, port


def _response_to(request: SipRequest, status: int) -> bytes:
    lines = [f"SIP/2.0 {status} OK"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        lines += [f"{name}: {value}" for value in request.header_values(name)]
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()
