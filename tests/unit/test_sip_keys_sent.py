"""The agent's keys on a SIP call: RFC 4733 telephone-events in the call's own RTP stream."""

from __future__ import annotations

import itertools

import pytest

from telephony.sip.media import SipCallMedia
from telephony.sip.rtp import DigitReceiver, TelephoneEvent
from telephony.sip.sdp import Answer
from tests.unit.test_sip_media import FRAME, refuse_transfer, started

pytestmark = pytest.mark.unit


def line(telephone_event: int | None = 101) -> SipCallMedia:
    return SipCallMedia(
        Answer("PCMU", 0, telephone_event),
        ("192.0.2.10", 40000),
        lead_ms=100,
        media_timeout_s=30,
        on_hang_up=[].append,
        on_transfer=refuse_transfer,
    )


async def test_keys_follow_the_words_and_the_far_end_hears_each_once() -> None:
    media = line()
    wire, _ = started(media)
    await media.send_audio(FRAME)
    await media.send_audio(FRAME)
    await media.send_digits("1#")
    await media.close()
    packets = [packet for _, packet, _ in wire.packets]
    assert [p.payload_type for p in packets[:2]] == [0, 0]
    events = [p for p in packets if p.payload_type == 101]
    receiver = DigitReceiver()
    assert [d for p in events if (d := receiver.receive(p)) is not None] == ["1", "#"]
    # One RTP stream: the same source, sequence numbers without a gap.
    assert {p.ssrc for p in packets} == {packets[0].ssrc}
    sequences = [p.sequence for p in packets]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(sequences))


async def test_each_event_keeps_its_start_time_grows_and_ends_three_times() -> None:
    media = line()
    wire, _ = started(media)
    await media.send_digits("5")
    await media.close()
    events = [packet for _, packet, _ in wire.packets if packet.payload_type == 101]
    parsed = [TelephoneEvent.parse(p.payload) for p in events]
    assert {p.timestamp for p in events} == {events[0].timestamp}
    assert [p.marker for p in events] == [True] + [False] * (len(events) - 1)
    durations = [e.duration for e in parsed]
    assert durations == sorted(durations)
    assert durations[0] == 160
    assert [e.end for e in parsed].count(True) == 3
    assert all(e.event == 5 for e in parsed)


async def test_the_next_key_starts_after_the_first_one_and_its_gap() -> None:
    media = line()
    wire, _ = started(media)
    await media.send_digits("12")
    await media.close()
    events = [packet for _, packet, _ in wire.packets if packet.payload_type == 101]
    starts = sorted({p.timestamp for p in events})
    assert len(starts) == 2
    assert (starts[1] - starts[0]) & 0xFFFFFFFF == 160 * 10  # 100 ms tone, 100 ms apart


async def test_a_far_end_without_telephone_event_is_refused() -> None:
    media = line(telephone_event=None)
    started(media)
    with pytest.raises(RuntimeError, match="telephone-event"):
        await media.send_digits("1")
    await media.close()
