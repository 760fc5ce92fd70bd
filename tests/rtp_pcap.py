"""A caller's RTP as a pcap file, for sipp's `play_pcap_audio`: Ethernet (link type 1), IPv4
and UDP around each RTP packet, 20 ms apart. sipp keeps each RTP packet as it is and rewrites
only the UDP ports (and the addresses) to the call's."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import wave
from pathlib import Path

from telephony.audio import StreamingResampler, pcm16_to_alaw
from telephony.sip.rtp import RtpPacket

PCMA = 8
FRAME_BYTES = 160  # 20 ms of G.711 at 8 kHz
_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # LINKTYPE_ETHERNET
_SSRC = 0x5EED1234


def espeak_8k(text: str) -> bytes:
    """`text` spoken by espeak-ng (Debian's package, offline), as PCM16 at 8 kHz."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: apt-get install -y espeak-ng")
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "140", "--stdout", text], capture_output=True, check=True
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    resampler = StreamingResampler(rate, 8000)
    return resampler.resample_chunk(pcm) + resampler.flush()


class RtpCapture:
    """RTP packets of one source, written out as a pcap."""

    def __init__(self, port: int = 40_000) -> None:
        self.port = port
        self.packets: list[bytes] = []
        self.sequence = 1000
        self.timestamp = 16_000

    def audio(self, pcm16_8k: bytes) -> None:
        """PCMA packets of 20 ms (the last partial frame left out)."""
        alaw = pcm16_to_alaw(pcm16_8k)
        for start in range(0, len(alaw) - FRAME_BYTES + 1, FRAME_BYTES):
            self._add(
                RtpPacket(
                    PCMA, self.sequence, self.timestamp, _SSRC, alaw[start : start + FRAME_BYTES]
                )
            )
            self.timestamp += FRAME_BYTES

    def digit(self, digit: str, payload_type: int = 101) -> None:
        """An RFC 4733 key press of 100 ms: updates every 20 ms, then its end packet three
        times (section 2.5.1.4), all with the event's start timestamp."""
        event = "0123456789*#ABCD".index(digit)
        for index, duration in enumerate((160, 320, 480, 640, 800, 800, 800)):
            end = index >= 4
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
            marker = index == 0
            self._add(
                RtpPacket(payload_type, self.sequence, self.timestamp, _SSRC, payload, marker)
            )
        self.timestamp += 800

    def _add(self, packet: RtpPacket) -> None:
        self.packets.append(packet.render())
        self.sequence = (self.sequence + 1) & 0xFFFF

    def write(self, path: Path) -> None:
        with path.open("wb") as out:
            out.write(_PCAP_HEADER)
            for index, rtp in enumerate(self.packets):
                frame = _ethernet_ipv4_udp(rtp, self.port)
                at_us = index * 20_000
                out.write(
                    struct.pack(
                        "<IIII", at_us // 1_000_000, at_us % 1_000_000, len(frame), len(frame)
                    )
                )
                out.write(frame)


def _ethernet_ipv4_udp(payload: bytes, port: int) -> bytes:
    udp = struct.pack("!HHHH", port, port, 8 + len(payload), 0) + payload
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(udp),
        0,
        0,
        64,
        17,
        0,
        bytes([127, 0, 0, 1]),
        bytes([127, 0, 0, 1]),
    )
    checksum = _ip_checksum(header)
    header = header[:10] + struct.pack("!H", checksum) + header[12:]
    ethernet = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return ethernet + header + udp


def _ip_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
