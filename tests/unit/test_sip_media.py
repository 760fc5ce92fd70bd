"""A SIP call's send clock: at most the playout lead held, `clear` at once, a mark confirmed
as the frame before it leaves."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from telephony.sip.media import SipCallMedia
from telephony.sip.rtp import RtpPacket
from telephony.sip.sdp import Answer

pytestmark = pytest.mark.unit

FRAME = b"\xff" * 160
TRUNK = ("192.0.2.10", 40000)


class Wire:
    """Stands in for the RTP socket: what was sent, and when."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, RtpPacket, tuple[str, int]]] = []
        self.closed = False

    def sendto(self, data: bytes, to: tuple[str, int]) -> None:
        self.packets.append((asyncio.get_running_loop().time(), RtpPacket.parse(data), to))

    def close(self) -> None:
        self.closed = True


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []

    def event(self, kind: str, **data: object) -> None:
        self.events.append(kind)


class Session:
    def __init__(self) -> None:
        self.log = Log()
        self.marks: list[tuple[str, int]] = []
        self.digits: list[str] = []
        self.frames = 0
        self.malformed: list[str] = []
        self.holds: list[bool] = []
        self.wire: Wire | None = None

    def on_mark(self, name: str) -> None:
        assert self.wire is not None
        self.marks.append((name, len(self.wire.packets)))

    def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)

    def line_held(self, held: bool) -> None:
        self.holds.append(held)

    def push_audio(self, frame: bytes) -> None:
        self.frames += 1

    def count_malformed(self, reason: str) -> None:
        self.malformed.append(reason)


def media(hang_ups: list[str] | None = None, timeout_s: float = 30) -> SipCallMedia:
    return SipCallMedia(
        Answer("PCMU", 0, 101),
        ("192.0.2.10", 40000),
        lead_ms=100,
        media_timeout_s=timeout_s,
        on_hang_up=(hang_ups if hang_ups is not None else []).append,
        on_transfer=refuse_transfer,
    )


async def refuse_transfer(phone_number: str) -> None:
    raise AssertionError(f"no transfer expected (to {phone_number})")


def started(line: SipCallMedia) -> tuple[Wire, Session]:
    wire, session = Wire(), Session()
    session.wire = wire
    line.attach(session)  # type: ignore[arg-type]
    line.start(wire)  # type: ignore[arg-type]
    return wire, session


async def test_frames_leave_every_20_ms_and_the_queue_holds_at_most_the_lead() -> None:
    line = media()
    wire, _ = started(line)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for _ in range(15):
        await line.send_audio(FRAME)
    # 15 frames with room for 5: the sender waited for about 10 of them to leave.
    assert loop.time() - began >= 0.15
    await asyncio.sleep(0.2)
    times = [at for at, _, _ in wire.packets]
    assert len(times) == 15
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 0.017 < sum(gaps) / len(gaps) < 0.025
    await line.close()


async def test_clear_drops_what_was_not_sent_at_once() -> None:
    line = media()
    wire, session = started(line)
    for _ in range(5):
        await line.send_audio(FRAME)
    await line.send_mark("sentence-1")
    await line.send_clear()
    await asyncio.sleep(0.1)
    assert len(wire.packets) <= 1  # at most the frame already on its way
    assert session.marks == []  # a cleared mark is never confirmed
    await line.close()


async def test_a_mark_is_confirmed_when_the_frame_before_it_leaves() -> None:
    line = media()
    _wire, session = started(line)
    await line.send_audio(FRAME)
    await line.send_audio(FRAME)
    await line.send_mark("sentence-1")
    await line.send_audio(FRAME)
    await asyncio.sleep(0.15)
    assert session.marks == [("sentence-1", 2)]
    await line.close()


async def test_rtp_goes_where_the_callers_rtp_comes_from() -> None:
    line = media()
    wire, session = started(line)
    for sequence in range(3):
        caller = RtpPacket(0, sequence, 160 * sequence, 7, FRAME).render()
        line.packet_received(caller, ("203.0.113.9", 31000))
    await line.send_audio(FRAME)
    await asyncio.sleep(0.05)
    assert wire.packets[-1][2] == ("203.0.113.9", 31000)
    assert session.frames >= 2  # the caller's audio reaches the session (the resampler lags)
    await line.close()


async def test_digits_reach_the_session_once() -> None:
    line = media()
    _, session = started(line)
    for sequence in range(4):
        end = 0x80 if sequence else 0
        packet = RtpPacket(101, sequence, 8000, 7, bytes([1, end, 0, 160])).render()
        line.packet_received(packet, ("192.0.2.10", 40000))
    assert session.digits == ["1"]
    await line.close()


async def test_a_silent_line_is_hung_up_after_the_media_timeout() -> None:
    hang_ups: list[str] = []
    line = media(hang_ups, timeout_s=0.1)
    started(line)
    await asyncio.sleep(0.25)
    assert hang_ups == ["media_timeout"]
    await line.close()


async def test_held_nothing_is_sent_nor_hung_up_and_off_hold_it_flows_again() -> None:
    hang_ups: list[str] = []
    line = media(hang_ups, timeout_s=0.1)
    wire, session = started(line)
    line.hold(True)
    for _ in range(3):
        await line.send_audio(FRAME)
    await line.send_mark("held-1")
    await asyncio.sleep(0.25)  # past the media timeout, the caller silent
    assert wire.packets == []
    assert hang_ups == []
    assert [name for name, _ in session.marks] == ["held-1"]  # the words still played out
    line.hold(False)
    await line.send_audio(FRAME)
    await asyncio.sleep(0.05)
    assert len(wire.packets) == 1
    await asyncio.sleep(0.15)
    assert hang_ups == ["media_timeout"]  # off hold, silence counts again
    assert session.log.events == ["hold", "unhold"]
    assert session.holds == [True, False]  # the session's silence rules wait while held
    await line.close()


async def test_a_new_offered_address_is_followed_and_latched_again() -> None:
    line = media()
    wire, _ = started(line)
    line.packet_received(RtpPacket(0, 1, 160, 7, FRAME).render(), ("203.0.113.9", 31000))
    line.follow(("192.0.2.10", 40000))  # the same address as offered: the latched one stays
    await line.send_audio(FRAME)
    await asyncio.sleep(0.05)
    assert wire.packets[-1][2] == ("203.0.113.9", 31000)
    line.follow(("198.51.100.7", 42000))  # a new one: sent there until its RTP comes
    await line.send_audio(FRAME)
    await asyncio.sleep(0.05)
    assert wire.packets[-1][2] == ("198.51.100.7", 42000)
    line.packet_received(RtpPacket(0, 1, 160, 8, FRAME).render(), ("198.51.100.7", 42002))
    await line.send_audio(FRAME)
    await asyncio.sleep(0.05)
    assert wire.packets[-1][2] == ("198.51.100.7", 42002)
    await line.close()


async def test_reordered_audio_reaches_the_session_in_order() -> None:
    class Converter:  # in place of the call's decoder: which payload came when
        def __init__(self) -> None:
            self.payloads: list[int] = []

        def push(self, payload: bytes) -> list[bytes]:
            self.payloads.append(payload[0])
            return []

    line = media()
    _, session = started(line)
    converter = Converter()
    line._inbound = converter  # type: ignore[assignment]
    for sequence in (1, 3, 2, 2, 5, 4):
        payload = bytes([sequence]) * 160
        line.packet_received(RtpPacket(0, sequence, 160 * sequence, 7, payload).render(), TRUNK)
    assert converter.payloads == [1, 2, 3, 4, 5]
    assert session.malformed == ["late_or_duplicate"]  # the second 2
    await line.close()
