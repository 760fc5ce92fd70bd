"""RTP packets (RFC 3550) and telephone-events (RFC 4733), sans-I/O.

`RtpPacket.parse` reads one datagram; `RtpSender` numbers and stamps the packets we send;
`DigitReceiver` turns a caller's telephone-event packets into one digit each, however many
times the trunk repeats the event's end packet; `digit_ticks` plans the agent's own keys as
telephone-events, one step per 20 ms tick of the send clock.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass

RTP_VERSION = 2
SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz
_HEADER = struct.Struct("!BBHII")
DTMF_DIGITS = "0123456789*#ABCD"


class MalformedRtpPacketError(ValueError):
    """A datagram that is not an RTP packet we can read; `reason` is short and stable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        if len(data) < _HEADER.size:
            raise MalformedRtpPacketError("too_short")
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise MalformedRtpPacketError("bad_version")
        offset = _HEADER.size + 4 * (first & 0x0F)  # CSRC list
        if first & 0x10:  # a header extension: 4 bytes, then its length in 32-bit words
            if len(data) < offset + 4:
                raise MalformedRtpPacketError("truncated_extension")
            (words,) = struct.unpack_from("!H", data, offset + 2)
            offset += 4 + 4 * words
        end = len(data)
        if first & 0x20:  # padding: its length is the last byte
            end -= data[-1] if data else 0
        if offset > end:
            raise MalformedRtpPacketError("truncated")
        return cls(second & 0x7F, sequence, timestamp, ssrc, data[offset:end], bool(second & 0x80))

    def render(self) -> bytes:
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        header = _HEADER.pack(
            RTP_VERSION << 6, second, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc
        )
        return header + self.payload


class RtpSender:
    """Our stream's numbering: sequence +1 and timestamp +160 per 20 ms frame, random starts
    (RFC 3550 section 5.1); the marker bit on the first packet after silence."""

    def __init__(self, payload_type: int) -> None:
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32)
        self._sequence = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._talking = False
        self.packets = 0

    def frame(self, payload: bytes) -> bytes:
        """The next packet, carrying one 20 ms frame."""
        packet = RtpPacket(
            self.payload_type,
            self._sequence,
            self._timestamp,
            self.ssrc,
            payload,
            marker=not self._talking,
        )
        self._talking = True
        self.packets += 1
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._timestamp = (self._timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF
        return packet.render()

    def telephone_event(
        self, payload_type: int, start: int, tick: DigitTick, *, first: bool
    ) -> bytes:
        """One telephone-event packet in our stream (RFC 4733 section 2.5.1): stamped with the
        event's start, numbered in sequence with the audio; the marker on its first packet."""
        flags = (0x80 if tick.end else 0) | EVENT_VOLUME
        payload = struct.pack("!BBH", DTMF_DIGITS.index(tick.digit), flags, tick.duration)
        packet = RtpPacket(payload_type, self._sequence, start, self.ssrc, payload, marker=first)
        self._talking = False  # the audio after the event starts a new talk spurt
        self.packets += 1
        self._sequence = (self._sequence + 1) & 0xFFFF
        return packet.render()

    @property
    def timestamp(self) -> int:
        """The timestamp of the next 20 ms tick."""
        return self._timestamp

    def silent_frame(self) -> None:
        """A 20 ms tick with nothing to send: time goes on, and the next talk spurt is marked."""
        self._talking = False
        self._timestamp = (self._timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF


# A key's tone lasts this many ticks, then this many silent ticks part it from the next; `w`
# (ElevenLabs' pause) is half a second of silence.
KEY_TICKS = 5
GAP_TICKS = 5
PAUSE_TICKS = 25
END_REPEATS = 3  # RFC 4733 section 2.5.1.4: the end packet is sent three times
EVENT_VOLUME = 10  # -10 dBm0


@dataclass(frozen=True)
class DigitTick:
    """One 20 ms tick of a key: the event's duration so far, in samples, and whether it ends."""

    digit: str
    duration: int
    end: bool


def digit_ticks(keys: str) -> list[DigitTick | None]:
    """What each tick of the send clock carries while `keys` are pressed (None: silence).

    A key's packets all carry the key's start timestamp; the sender advances the audio clock
    on every tick, events included."""
    ticks: list[DigitTick | None] = []
    for key in keys:
        if key == "w":
            ticks.extend([None] * PAUSE_TICKS)
            continue
        if key not in DTMF_DIGITS:
            raise ValueError(f"{key!r} is not a keypad key")
        ticks.extend(DigitTick(key, SAMPLES_PER_FRAME * n, False) for n in range(1, KEY_TICKS))
        full = SAMPLES_PER_FRAME * KEY_TICKS
        ticks.extend(DigitTick(key, full, True) for _ in range(END_REPEATS))
        ticks.extend([None] * (GAP_TICKS - END_REPEATS + 1))
    return ticks


@dataclass(frozen=True)
class TelephoneEvent:
    event: int
    end: bool
    volume: int
    duration: int

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) < 4:
            raise MalformedRtpPacketError("short_telephone_event")
        event, flags, duration = struct.unpack_from("!BBH", payload)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)


class DigitReceiver:
    """One digit per telephone-event, announced at its first end packet (RFC 4733 section
    2.5.1.4: the end packet is sent three times; an event is named by its RTP timestamp)."""

    def __init__(self, remembered: int = 32) -> None:
        self._done: list[int] = []
        self._remembered = remembered

    def receive(self, packet: RtpPacket) -> str | None:
        event = TelephoneEvent.parse(packet.payload)
        if not event.end or packet.timestamp in self._done:
            return None
        self._done = [*self._done[-self._remembered + 1 :], packet.timestamp]
        if event.event >= len(DTMF_DIGITS):
            return None  # a tone event (fax, flash), not a key
        return DTMF_DIGITS[event.event]
