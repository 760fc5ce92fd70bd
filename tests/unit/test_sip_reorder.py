"""The inbound RTP reorder buffer, sans-I/O: reordered, duplicated, lost and wrapped sequence
numbers, on a fake clock."""

from __future__ import annotations

import pytest

from telephony.sip.reorder import ReorderBuffer

pytestmark = pytest.mark.unit

SSRC = 0x1234


def played(buffer: ReorderBuffer[int], sequences: list[int], step: float = 0.02) -> list[int]:
    """Push each sequence number (as its own item) 20 ms apart; what played, in order."""
    out: list[int] = []
    for index, sequence in enumerate(sequences):
        now = index * step
        out += buffer.due(now)
        out += buffer.push(SSRC, sequence, sequence, now).released
    return out


def test_packets_in_order_play_at_once() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer()
    for sequence in range(10, 15):
        assert buffer.push(SSRC, sequence, sequence, 0.0).released == [sequence]
    assert buffer.held == 0


def test_a_swapped_pair_plays_in_order() -> None:
    assert played(ReorderBuffer(), [1, 3, 2, 4, 6, 5]) == [1, 2, 3, 4, 5, 6]


def test_reordering_across_the_wrap_plays_in_order() -> None:
    sequences = [65533, 65535, 65534, 1, 0, 2]
    assert played(ReorderBuffer(), sequences) == [65533, 65534, 65535, 0, 1, 2]


def test_late_and_duplicate_packets_are_dropped_and_said_so() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer()
    assert buffer.push(SSRC, 65535, 65535, 0.0).released == [65535]
    assert buffer.push(SSRC, 1, 1, 0.0).released == []  # 0 missing: held
    assert buffer.push(SSRC, 1, 1, 0.0).dropped  # a duplicate of one held
    assert buffer.push(SSRC, 0, 0, 0.0).released == [0, 1]
    late = buffer.push(SSRC, 0, 0, 0.0)  # already played
    assert late.dropped
    assert late.released == []
    assert buffer.push(SSRC, 65535, 65535, 0.0).dropped  # before the wrap: late too


def test_a_lost_packet_is_given_up_after_the_depth_is_reached() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer(depth=3, max_wait_s=10.0)
    assert played(buffer, [1, 3, 4, 5]) == [1]  # 2 is waited for, three behind it
    assert buffer.push(SSRC, 6, 6, 0.1).released == [3, 4, 5, 6]  # a fourth: 2 given up
    assert buffer.gaps_skipped == 1
    assert buffer.push(SSRC, 2, 2, 0.1).dropped  # it comes after all: too late


def test_a_lost_packet_is_given_up_after_the_wait_not_forever() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer(depth=3, max_wait_s=0.06)
    assert buffer.push(SSRC, 1, 1, 0.0).released == [1]
    assert buffer.push(SSRC, 3, 3, 0.02).released == []
    assert buffer.due(0.07) == []  # 3 has waited 50 ms
    assert buffer.due(0.08) == [3]  # 60 ms: the gap plays as nothing
    assert buffer.push(SSRC, 4, 4, 0.1).released == [4]


def test_a_place_with_nothing_to_play_fills_the_gap() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer()
    assert buffer.push(SSRC, 1, 1, 0.0).released == [1]
    assert buffer.push(SSRC, 3, 3, 0.0).released == []
    assert buffer.push(SSRC, 2, None, 0.0).released == [3]  # a digit's packet took 2
    assert buffer.gaps_skipped == 0


def test_a_new_source_or_a_restarted_numbering_starts_a_new_stream() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer()
    assert buffer.push(SSRC, 100, 100, 0.0).released == [100]
    assert buffer.push(SSRC, 102, 102, 0.0).released == []
    assert buffer.push(0x9999, 7, 7, 0.0).released == [102, 7]  # what was held plays first
    assert buffer.push(0x9999, 8, 8, 0.0).released == [8]
    assert buffer.push(0x9999, 20_000, 20_000, 0.0).released == []  # far ahead: waits
    assert buffer.push(0x9999, 9, 9, 0.0).released == [9]
    restarted = buffer.push(0x9999, 5, 5, 0.0)  # 5 behind: late
    assert restarted.dropped
    # Far behind (by 5546): the numbering restarted; what was held plays first.
    assert buffer.push(0x9999, 60_000, 60_000, 0.0).released == [20_000, 60_000]
