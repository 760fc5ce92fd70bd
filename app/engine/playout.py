"""Sends agent audio to the line in 20 ms frames, a bounded distance ahead of real time.

A line that takes several frames in one message (`CallTransport.frames_per_message`) gets them
together: once the audio ahead of real time falls to the lead, the next frames go at once in
one message, up to that many, so the far end holds between the lead and the lead plus those
frames. Every message and every wake-up costs the serving process the same whatever it carries.

A mark follows each sentence; the far end reports a mark back once it has played everything
before it, so `heard` always says what the caller really heard, not what was merely sent.

When the caller's voice starts over the agent, the playout can `hold`: it stops sending, has
the far end drop what it buffered, and keeps every frame the caller did not hear (from the last
word boundary they reached). The session then either `resume`s (a backchannel, a cough: the
reply goes on where it stopped) or `discard`s (a real interruption).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.engine.transport import CallTransport


@dataclass(slots=True)
class _Frame:
    data: bytes


@dataclass(slots=True)
class _Mark:
    name: str
    wire: str  # the name sent; a mark re-sent after a hold gets a new one


# How far back from where the caller stopped hearing a resume may start (a word boundary),
# and how much quieter than the audio around it a frame must be to count as a gap between words.
MAX_REWIND_MS = 600
WORD_GAP_DB = 15.0
MAX_SENT_KEPT = 500  # frames and marks: ten seconds is far more than any rewind needs


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
    holds: int = 0
    resumes: int = 0


class Playout:
    """One per call. `enqueue_*` never blocks; `run` does the pacing."""

    def __init__(
        self,
        transport: CallTransport,
        lead_ms: int,
        clock: Callable[[], float] = time.monotonic,
        frame_level: Callable[[bytes], float] | None = None,
        on_frame_sent: Callable[[bytes, float], None] | None = None,
        on_clear: Callable[[float], None] | None = None,
        frames_per_send: int = 1,
    ) -> None:
        if frames_per_send < 1:
            raise ValueError(f"frames_per_send must be at least 1, got {frames_per_send}")
        self._transport = transport
        self._frames_per_send = frames_per_send
        self._frame_level = frame_level
        self._on_frame_sent = on_frame_sent
        # Told the clock time of every `clear`: the far end drops what it had not played by then.
        self._on_clear = on_clear
        self._frame_bytes = transport.output_format.frame_bytes
        self._lead_s = lead_ms / 1000
        self._clock = clock
        self._queue: deque[_Frame | _Mark] = deque()
        self._queued = asyncio.Event()  # set while the queue holds something
        self._partial = b""
        self._play_end = 0.0
        self._marks: dict[str, PlayedMark] = {}
        # Wire names of marks sent and not yet reported back, in order, with their own names.
        self._pending: dict[str, str] = {}
        # What was sent since the last mark the far end reported: a hold rewinds into it.
        self._sent: list[_Frame | _Mark] = []
        self._in_flight: _Frame | None = None
        self._held: list[_Frame | _Mark] | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._resends = 0
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
        self._put(_Mark(name, name))

    def _put(self, item: _Frame | _Mark) -> None:
        self._idle.clear()
        self._queue.append(item)
        self._queued.set()

    # --- far-end feedback ------------------------------------------------------------------

    def on_mark(self, wire: str) -> PlayedMark | None:
        """The far end played up to `wire`. Unknown or cleared marks are ignored."""
        if wire not in self._pending:
            return None
        # Marks are played in order: reaching this one means every earlier one was reached.
        for reached in list(self._pending):
            name = self._pending.pop(reached)
            self._marks[name].confirmed = True
            if reached == wire:
                break
        for index, item in enumerate(self._sent):
            if isinstance(item, _Mark) and item.wire == wire:
                del self._sent[: index + 1]
                break
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
        """The caller is hearing, or about to hear, agent audio (not while held)."""
        if self._held is not None:
            return False
        return (
            bool(self._queue)
            or bool(self._pending)
            or bool(self._partial)
            or self._play_end > self._clock()
        )

    @property
    def held(self) -> bool:
        return self._held is not None

    async def wait_played(self) -> None:
        """Until everything enqueued has been sent and every mark reported back."""
        await self._idle.wait()

    async def clear(self) -> None:
        """Barge-in: drop what is queued, tell the far end to drop what it buffered."""
        if self._held is None:
            self._stop_sending()
            await self._send_clear()
        self.discard()

    async def hold(self) -> bool:
        """Stop at once and keep what the caller has not heard; False if nothing is playing."""
        if self._held is not None or not self.audible:
            return False
        now = self._clock()
        frame_s = self._transport.output_format.duration_ms(self._frame_bytes) / 1000
        unplayed = math.ceil(max(0.0, self._play_end - now) / frame_s - 1e-9)
        cut = self._word_boundary(self._cut_before(unplayed))
        # What was sent before the cut was played: its marks count as heard.
        for item in self._sent[:cut]:
            if isinstance(item, _Mark) and self._pending.pop(item.wire, None) is not None:
                self._marks[item.name].confirmed = True
        held = self._sent[cut:]
        if self._in_flight is not None:
            held.append(self._in_flight)
        held.extend(self._queue)
        self._queue.clear()
        self._held = held
        self._stop_sending()
        self.stats.holds += 1
        await self._send_clear()
        return True

    async def _send_clear(self) -> None:
        if self._on_clear is not None:
            self._on_clear(self._clock())
        await self._transport.send_clear()

    def resume(self) -> None:
        """Play the held audio again from the word boundary, then whatever followed it."""
        if self._held is None:
            return
        later = list(self._queue)
        self._queue.clear()
        self._resends += 1
        for item in self._held:
            if isinstance(item, _Mark):
                item.wire = f"{item.name}~{self._resends}"
        self._queue.extend([*self._held, *later])
        if self._queue:
            self._queued.set()
        self._held = None
        self.stats.resumes += 1
        self._resumed.set()
        self._update_idle()

    def discard(self) -> None:
        """Drop the held (or queued) audio: the caller really interrupted."""
        self._queue.clear()
        self._partial = b""
        self._held = None
        self._resumed.set()
        self._idle.set()

    def _stop_sending(self) -> None:
        # Marks the far end reports after a clear were not heard; forget them.
        self._pending.clear()
        self._sent = []
        self._in_flight = None
        self._play_end = self._clock()
        self._on_first_frame = None
        self._generation += 1
        self.stats.clears_sent += 1
        self._resumed.clear()

    def _cut_before(self, unplayed_frames: int) -> int:
        """Index in `_sent` of the first item the far end had not played."""
        cut = len(self._sent)
        while cut > 0 and unplayed_frames > 0:
            cut -= 1
            if isinstance(self._sent[cut], _Frame):
                unplayed_frames -= 1
        return cut

    def _word_boundary(self, cut: int) -> int:
        """Move `cut` back to the quietest frame shortly before it, if that is a gap in speech."""
        if self._frame_level is None:
            return cut
        frame_ms = self._transport.output_format.duration_ms(self._frame_bytes)
        window: list[tuple[int, float]] = []
        index = cut - 1
        while index >= 0 and len(window) * frame_ms < MAX_REWIND_MS:
            item = self._sent[index]
            if isinstance(item, _Mark):
                break  # a sentence boundary is a word boundary
            window.append((index, self._frame_level(item.data)))
            index -= 1
        # Reaching a mark or the first frame sent since the last one is reaching a sentence start.
        reached_sentence_start = index < 0 or isinstance(self._sent[index], _Mark)
        if window:
            quietest, quietest_level = min(window, key=lambda entry: entry[1])
            if max(level for _, level in window) - quietest_level >= WORD_GAP_DB:
                return quietest
        return index + 1 if reached_sentence_start else cut

    def _update_idle(self) -> None:
        if not self._queue and not self._pending and not self._partial and self._held is None:
            self._idle.set()

    # --- the pacing loop -------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            await self._resumed.wait()
            item = await self._next_item()
            if self._held is not None:  # held while waiting for audio: keep it for the resume
                self._held.append(item)
                continue
            if isinstance(item, _Mark):
                self._pending[item.wire] = item.name
                self._sent.append(item)
                self.stats.marks_sent += 1
                await self._transport.send_mark(item.wire)
                continue
            generation = self._generation
            ahead = self._play_end - self._clock()
            if ahead > self._lead_s:
                self._in_flight = item
                await asyncio.sleep(ahead - self._lead_s)
                if generation != self._generation:
                    continue  # cleared or held while this frame waited (a hold kept it)
                self._in_flight = None
            frames = [item]
            # The frames queued behind it go with it, up to a message's worth (never a mark).
            while len(frames) < self._frames_per_send and self._queue:
                following = self._queue[0]
                if not isinstance(following, _Frame):
                    break
                frames.append(following)
                self._queue.popleft()
            now = self._clock()
            if self._on_first_frame is not None:
                callback, self._on_first_frame = self._on_first_frame, None
                callback(now)
            self._sent.extend(frames)
            if len(self._sent) > MAX_SENT_KEPT:  # a far end that never reports marks
                del self._sent[: len(self._sent) - MAX_SENT_KEPT]
            data = item.data if len(frames) == 1 else b"".join(frame.data for frame in frames)
            await self._transport.send_audio(data)
            for frame in frames:
                self.stats.frames_sent += 1
                frame_s = self._transport.output_format.duration_ms(len(frame.data)) / 1000
                plays_at = max(self._play_end, now)
                self._play_end = plays_at + frame_s
                if self._on_frame_sent is not None:
                    self._on_frame_sent(frame.data, plays_at)
            self._update_idle()

    async def _next_item(self) -> _Frame | _Mark:
        while not self._queue:
            self._queued.clear()
            await self._queued.wait()
        return self._queue.popleft()
