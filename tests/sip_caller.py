"""A SIP trunk's side of a call over real UDP, for what sipp cannot script: raw datagrams sent
as they are, every datagram received kept with its arrival time, RTP sent at 20 ms."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import dataclass, field

from telephony.audio import mulaw_to_pcm16, pcm16_to_mulaw
from telephony.sip.message import SipRequest, SipResponse, parse_message
from telephony.sip.rtp import RtpPacket, RtpSender

TELEPHONE_EVENT = 101  # the payload type the offer gives telephone-event


def offer(rtp_port: int, payload_types: str = "0 101") -> str:
    return (
        "v=0\r\n"
        "o=trunk 1 1 IN IP4 127.0.0.1\r\n"
        "s=call\r\n"
        "c=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP {payload_types}\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=ptime:20\r\n"
    )


@dataclass
class Received:
    at: float
    message: SipRequest | SipResponse


@dataclass
class SipCaller:
    """Calls `number` at 127.0.0.1:`port` with Call-ID `call_id`."""

    port: int
    number: str
    call_id: str = "raw-call-1@127.0.0.1"
    payload_types: str = "0 101"  # what the offer's m= line lists
    sip: socket.socket = field(init=False)
    rtp: socket.socket = field(init=False)
    received: list[Received] = field(default_factory=list)
    audio: list[tuple[float, bytes]] = field(default_factory=list)
    # The agent's keys: its telephone-event packets (RFC 4733), kept out of `audio`.
    events: list[RtpPacket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.sip.setblocking(False)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.setblocking(False)
        self.to_tag = ""
        self.media_to: tuple[str, int] | None = None

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()

    @property
    def sip_port(self) -> int:
        port: int = self.sip.getsockname()[1]
        return port

    def request(self, method: str, branch: str, cseq: int = 1, to_tag: str = "") -> bytes:
        rtp_port = self.rtp.getsockname()[1]
        body = offer(rtp_port, self.payload_types) if method == "INVITE" else ""
        to = f"<sip:{self.number}@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
        content_type = "Content-Type: application/sdp\r\n" if body else ""
        return (
            f"{method} sip:{self.number}@127.0.0.1:{self.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:+15552223333@127.0.0.1>;tag=raw-caller\r\n"
            f"To: {to}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {cseq} {method}\r\n"
            f"Contact: <sip:caller@127.0.0.1:{self.sip_port}>\r\n"
            "X-Customer-Id: 42\r\n"
            f"{content_type}Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()

    def send(self, data: bytes) -> None:
        self.sip.sendto(data, ("127.0.0.1", self.port))

    def invite(self, branch: str = "z9hG4bK-raw-1") -> None:
        self.send(self.request("INVITE", branch))

    def ack(self) -> None:
        self.send(self.request("ACK", "z9hG4bK-raw-ack", to_tag=self.to_tag))

    def bye(self) -> None:
        self.send(self.request("BYE", "z9hG4bK-raw-bye", cseq=2, to_tag=self.to_tag))

    async def pump(self, seconds: float) -> None:
        """Read both sockets for `seconds`, keeping everything that arrives."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._drain()
            await asyncio.sleep(0.005)

    def _drain(self) -> None:
        while True:
            try:
                data = self.sip.recv(65535)
            except BlockingIOError:
                break
            message = parse_message(data)
            self.received.append(Received(time.monotonic(), message))
            if isinstance(message, SipResponse) and message.status == 200 and message.body:
                self.to_tag = message.to_tag
                self.media_to = _media_address(message.body)
        while True:
            try:
                data = self.rtp.recv(2048)
            except BlockingIOError:
                break
            packet = RtpPacket.parse(data)
            if packet.payload_type == TELEPHONE_EVENT:
                self.events.append(packet)
                continue
            self.audio.append((time.monotonic(), mulaw_to_pcm16(packet.payload)))

    async def wait_for(self, status: int, within_s: float = 5.0) -> Received:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for item in self.received:
                if isinstance(item.message, SipResponse) and item.message.status == status:
                    return item
            await self.pump(0.02)
        raise AssertionError(f"no {status} within {within_s} s; got {self.statuses()}")

    def statuses(self) -> list[int]:
        return [r.message.status for r in self.received if isinstance(r.message, SipResponse)]

    def requests(self, method: str) -> list[Received]:
        return [
            r
            for r in self.received
            if isinstance(r.message, SipRequest) and r.message.method == method
        ]

    async def press(self, digit: str) -> None:
        """A key press as RFC 4733 telephone-events (payload type 101), 20 ms apart."""
        assert self.media_to is not None, "no 200 with SDP yet"
        for packet in _event_packets(digit, 1000, 80_000):
            self.rtp.sendto(packet, self.media_to)
            await self.pump(0.02)

    async def speak(self, pcm16_8k: bytes) -> None:
        """Send audio (PCM16 at 8 kHz) as PCMU RTP, one packet every 20 ms."""
        assert self.media_to is not None, "no 200 with SDP yet"
        sender = RtpSender(0)
        started = time.monotonic()
        for index in range(0, len(pcm16_8k) - 319, 320):
            packet = sender.frame(pcm16_to_mulaw(pcm16_8k[index : index + 320]))
            self.rtp.sendto(packet, self.media_to)
            wait = started + (index // 320 + 1) * 0.02 - time.monotonic()
            await self.pump(max(wait, 0))


def _event_packets(digit: str, sequence: int, timestamp: int) -> list[bytes]:
    """A key press as RFC 4733 sends it: updates while held, then its end packet three times."""
    event = "0123456789*#".index(digit)
    packets = []
    for index, (end, duration) in enumerate(
        [(False, 160), (False, 320), (False, 480), (True, 640), (True, 640), (True, 640)]
    ):
        payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
        packet = RtpPacket(101, sequence + index, timestamp, 0x5151, payload, marker=index == 0)
        packets.append(packet.render())
    return packets


def _media_address(sdp: bytes) -> tuple[str, int]:
    host, port = "", 0
    for line in sdp.decode().splitlines():
        if line.startswith("c="):
            host = line.split()[-1]
        elif line.startswith("m=audio"):
            port = int(line.split()[1])
    return host, port
