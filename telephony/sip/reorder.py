"""A small reorder buffer for inbound RTP, by sequence number (modulo 2^16), sans-I/O.

Packets in order pass at once. After a gap, later packets wait for the missing one, but only
a little: once `depth` packets wait, or the oldest has waited `max_wait_s`, the gap is given up
(played as nothing) and playing goes on from the next packet held. A packet behind what was
played (late) or one already held (a duplicate) is dropped and said so. A new SSRC starts a new
stream, and so does a jump back of more than `MAX_MISORDER`. A sequence number that carries
nothing to play (an RFC 4733 digit's packet, read elsewhere) is pushed with no item: it fills
its place so no gap is waited for.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

DEPTH = 3  # packets held behind a gap before it is given up
MAX_WAIT_S = 0.06  # how long a packet waits behind a gap (three 20 ms packets)
MAX_MISORDER = 100  # further behind than this is a sender that restarted its numbering
_HALF = 0x8000


@dataclass
class Pushed(Generic[T]):
    """What one push released, in order (gaps given up are skipped), and whether the packet
    was dropped as late or a duplicate."""

    released: list[T] = field(default_factory=list)
    dropped: bool = False


class ReorderBuffer(Generic[T]):
    def __init__(self, depth: int = DEPTH, max_wait_s: float = MAX_WAIT_S) -> None:
        self._depth = depth
        self._max_wait_s = max_wait_s
        self._ssrc: Hashable | None = None
        self._next: int | None = None  # the sequence number due to play next
        self._held: dict[int, tuple[T | None, float]] = {}
        self.gaps_skipped = 0  # sequence numbers never heard, played as nothing

    @property
    def held(self) -> int:
        return len(self._held)

    def push(self, ssrc: Hashable, sequence: int, item: T | None, now: float) -> Pushed[T]:
        out: Pushed[T] = Pushed()
        if ssrc != self._ssrc or self._next is None:
            out.released += self._flush_all()
            self._ssrc, self._next = ssrc, sequence
        ahead = (sequence - self._next) & 0xFFFF
        if ahead >= _HALF and (self._next - sequence) & 0xFFFF > MAX_MISORDER:
            out.released += self._flush_all()  # numbering restarted (RFC 3550 appendix A.1)
            self._next, ahead = sequence, 0
        if ahead >= _HALF or sequence in self._held:
            out.dropped = True  # behind what played, or held already
            return out
        self._held[sequence] = (item, now)
        out.released += self._release()
        while len(self._held) > self._depth:
            out.released += self._skip_gap()
        return out

    def due(self, now: float) -> list[T]:
        """What waited past `max_wait_s` behind a gap, released with the gap given up."""
        out: list[T] = []
        while self._held and now - min(at for _, at in self._held.values()) >= self._max_wait_s:
            out += self._skip_gap()
        return out

    def _release(self) -> list[T]:
        out: list[T] = []
        while self._next is not None and self._next in self._held:
            item, _ = self._held.pop(self._next)
            if item is not None:
                out.append(item)
            self._next = (self._next + 1) & 0xFFFF
        return out

    def _skip_gap(self) -> list[T]:
        """Give up the missing packets before the nearest one held, and play on from it."""
        assert self._next is not None
        start = self._next
        nearest = min(self._held, key=lambda sequence: (sequence - start) & 0xFFFF)
        self.gaps_skipped += (nearest - start) & 0xFFFF
        self._next = nearest
        return self._release()

    def _flush_all(self) -> list[T]:
        out: list[T] = []
        while self._held:
            out += self._skip_gap()
        return out
