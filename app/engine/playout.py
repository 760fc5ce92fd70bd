"""Sends agent audio to the line in 20 ms frames, a bounded distance ahead of real time.

A mark follows each sentence; the far end reports a mark back once it has played everything
before it, so `heard` always says what the caller really heard, not what was merely sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.engine.transport import CallTransport


@dataclass(slots=True)
class _Frame:
    data: bytes


@dataclass(slots=True)
class _Mark:
    name: str


@dataclass(slots=True)
class PlayedMark:
    name: str
    text: str
    confirmed: bool = False


@dataclass(slots=True)
class PlayoutStats:
    frames_sent: int = 0
    marks_sent: int = 0
    clears_sent: int = 0


class Playout:
    """One per call. `enqueue_*` never blocks; `run` does the pacing."""

    def __init__(
        self,
        transport: CallTransport,
        lead_ms: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._frame_bytes = transport.output_format.frame_bytes
        self._lead_s = lead_ms / 1000
        self._clock = clock
        self._queue: asyncio.Queue[_Frame | _Mark] = asyncio.Queue()
        self._partial = b""
        self._play_end = 0.0
        self._marks: dict[str, PlayedMark] = {}
        self._pending: list[str] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_first_frame: Callable[[float], None] | None = None
        # Bumped by `clear`: a frame taken off the queue before a clear is never sent after it.
        self._generation = 0
        self.stats = PlayoutStats()

    # --- producer side ---------------------------------------------------------------------

    def expect_first_frame(self, callback: Callable[[float], None]) -> None:
        """Call `callback(send_time)` when the next frame leaves (voice-to-voice latency)."""
        self._on_first_frame = callback

    def enqueue_audio(self, data: bytes) -> None:
        data = self._partial + data
        whole = len(data) - len(data) % self._frame_bytes
        for start in range(0, whole, self._frame_bytes):
            self._put(_Frame(data[start : start + self._frame_bytes]))
        self._partial = data[whole:]

    def enqueue_mark(self, name: str, text: str) -> None:
        """Close the audio so far with a mark standing for `text`."""
        if self._partial:
            self._put(_Frame(self._partial))
            self._partial = b""
        self._marks[name] = PlayedMark(name, text)
        self._put(_Mark(name))

    def _put(self, item: _Frame | _Mark) -> None:
        self._idle.clear()
        self._queue.put_nowait(item)

    # --- far-end feedback ------------------------------------------------------------------

    def on_mark(self, name: str) -> PlayedMark | None:
        """The far end played up to `name`. Unknown or cleared marks are ignored."""
        if name not in self._pending:
            return None
        # Marks are played in order: reaching this one means every earlier one was reached.
        index = self._pending.index(name)
        for reached in self._pending[: index + 1]:
            self._marks[reached].confirmed = True
        del self._pending[: index + 1]
        self._update_idle()
        return self._marks[name]

    def heard_text(self, names: list[str]) -> str:
        return " ".join(self._marks[n].text for n in names if self._marks[n].confirmed).strip()

    def is_confirmed(self, name: str) -> bool:
        mark = self._marks.get(name)
        return mark is not None and mark.confirmed

    # --- state -----------------------------------------------------------------------------

    @property
    def audible(self) -> bool:
        """The caller is hearing, or about to hear, agent audio."""
        return (
            not self._queue.empty()
            or bool(self._pending)
            or bool(self._partial)
            or self._play_end > self._clock()
        )

    async def wait_played(self) -> None:
        """Until everything enqueued has been sent and every mark reported back."""
        await self._idle.wait()

    async def clear(self) -> None:
        """Barge-in: drop what is queued, tell the far end to drop what it buffered."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._partial = b""
        # Marks the far end reports after a clear were not heard; forget them.
        self._pending.clear()
        self._play_end = self._clock()
        self._on_first_frame = None
        self._generation += 1
        self.stats.clears_sent += 1
        self._idle.set()
        await self._transport.send_clear()

    def _update_idle(self) -> None:
        if self._queue.empty() and not self._pending and not self._partial:
            self._idle.set()

    # --- the pacing loop -------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Mark):
                self._pending.append(item.name)
                self.stats.marks_sent += 1
                await self._transport.send_mark(item.name)
                continue
            generation = self._generation
            ahead = self._play_end - self._clock()
            if ahead > self._lead_s:
                await asyncio.sleep(ahead - self._lead_s)
                if generation != self._generation:
                    continue  # cleared while this frame waited for its turn
            now = self._clock()
            if self._on_first_frame is not None:
                callback, self._on_first_frame = self._on_first_frame, None
                callback(now)
            await self._transport.send_audio(item.data)
            self.stats.frames_sent += 1
            frame_s = self._transport.output_format.duration_ms(len(item.data)) / 1000
            self._play_end = max(self._play_end, now) + frame_s
            self._update_idle()
