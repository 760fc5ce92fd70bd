"""A test client that plays Twilio's side of a bidirectional Media Stream over a real WebSocket.

It sends `connected`, `start` and real-time 20 ms mu-law `media` frames like Twilio does, and it
models Twilio's playback buffer: agent audio "plays" at real-time rate from its arrival, a `mark`
is echoed back when playback reaches it, and `clear` drops unplayed audio and echoes every
pending mark at once. With `echo_agent`, the agent's audio as it plays also returns into the
caller's microphone, quieter and later, as on a speakerphone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from telephony.audio import MULAW_SILENCE, StreamingResampler, mulaw_to_pcm16, pcm16_to_mulaw

T = TypeVar("T")

FRAME_SECONDS = 0.02
FRAME_BYTES = 160  # 20 ms of mu-law at 8 kHz
MULAW_RATE = 8000


@dataclass(frozen=True, slots=True)
class ReceivedMedia:
    at: float
    mulaw: bytes


@dataclass(frozen=True, slots=True)
class ReceivedMark:
    name: str
    at: float


@dataclass(frozen=True, slots=True)
class EchoedMark:
    name: str
    at: float
    cleared: bool
    """True if the mark came back because of a `clear`, not because its audio played."""


@dataclass(slots=True)
class _PendingMark:
    name: str
    due: float


class TwilioCaller:
    """Twilio's end of one Media Stream; times are `time.monotonic()` seconds."""

    def __init__(
        self,
        url: str,
        *,
        custom_parameters: Mapping[str, str] | None = None,
        call_sid: str = "CA00000000000000000000000000000001",
        stream_sid: str = "MZ00000000000000000000000000000001",
        account_sid: str = "AC00000000000000000000000000000001",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.custom_parameters = dict(custom_parameters or {})
        self.call_sid = call_sid
        self.stream_sid = stream_sid
        self.account_sid = account_sid
        self.headers = dict(headers or {})

        self.media: list[ReceivedMedia] = []
        self.marks_received: list[ReceivedMark] = []
        self.marks_echoed: list[EchoedMark] = []
        self.clears: list[float] = []
        self.malformed: list[str | bytes] = []
        self.closed_at: float | None = None

        self._ws: ClientConnection | None = None
        self._sequence = 0
        self._chunk = 0
        self._started_at = 0.0
        self._queued_seconds = 0.0
        self._discarded_seconds = 0.0
        self._play_end = 0.0
        self._pending_marks: deque[_PendingMark] = deque()
        self._marks_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._ended = False
        # What the speaker plays: (start time, PCM16 8 kHz samples), cut short by a `clear`.
        self._speaker: list[tuple[float, np.ndarray]] = []
        self._agent_echo: tuple[float, float] | None = None  # (linear gain, delay in seconds)

    # --- connection ---------------------------------------------------------------------------

    async def __aenter__(self) -> TwilioCaller:
        self._ws = await connect(self.url, additional_headers=self.headers, max_size=None)
        self._started_at = time.monotonic()
        self._play_end = self._started_at
        self._tasks = [
            asyncio.create_task(self._receive(), name="twilio-caller-receive"),
            asyncio.create_task(self._echo_marks(), name="twilio-caller-marks"),
        ]
        await self.send_raw(
            json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        )
        await self._send_event(
            "start",
            start={
                "accountSid": self.account_sid,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "customParameters": self.custom_parameters,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Leaving the block hangs up the way Twilio does (`stop`, then close) unless ended."""
        if not self._ended:
            with contextlib.suppress(ConnectionClosed):
                await self.stop()
        await self._cancel_tasks()

    async def stop(self) -> None:
        """Hang up: send `stop`, then close the WebSocket cleanly."""
        self._ended = True
        await self._send_event(
            "stop", stop={"accountSid": self.account_sid, "callSid": self.call_sid}
        )
        await self._connection.close()

    async def drop(self) -> None:
        """Lose the connection abruptly: no `stop`, no close handshake (a dead network)."""
        self._ended = True
        self._connection.transport.abort()
        await self._cancel_tasks()

    # --- sending ------------------------------------------------------------------------------

    async def play(self, pcm16_16k: bytes) -> None:
        """Speak PCM16 16 kHz audio into the call as real-time 20 ms mu-law frames."""
        resampler = StreamingResampler(16_000, MULAW_RATE)
        pcm8k = resampler.resample_chunk(pcm16_16k) + resampler.flush()
        await self.play_mulaw(pcm16_to_mulaw(pcm8k))

    async def play_mulaw(self, mulaw: bytes) -> None:
        """Send mu-law 8 kHz audio as real-time 20 ms frames (the last one silence-padded)."""
        if len(mulaw) % FRAME_BYTES:
            mulaw += bytes([MULAW_SILENCE]) * (FRAME_BYTES - len(mulaw) % FRAME_BYTES)
        frames = [mulaw[i : i + FRAME_BYTES] for i in range(0, len(mulaw), FRAME_BYTES)]
        # Frame n is due at t0 + n * 20 ms, so lateness of one frame never delays the rest.
        t0 = time.monotonic()
        for n, frame in enumerate(frames):
            delay = t0 + n * FRAME_SECONDS - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._chunk += 1
            frame = self._with_echo(frame, t0 + n * FRAME_SECONDS)
            await self._send_event(
                "media",
                media={
                    "track": "inbound",
                    "chunk": str(self._chunk),
                    "timestamp": str(round((t0 + n * FRAME_SECONDS - self._started_at) * 1000)),
                    "payload": base64.b64encode(frame).decode("ascii"),
                },
            )

    def echo_agent(self, *, gain_db: float, delay_s: float) -> None:
        """From now on the agent's played audio returns in what the caller sends."""
        self._agent_echo = (10 ** (gain_db / 20), delay_s)

    def _with_echo(self, frame: bytes, due: float) -> bytes:
        if self._agent_echo is None:
            return frame
        gain, delay = self._agent_echo
        start = due - delay
        echo = np.zeros(FRAME_BYTES)
        for played_at, samples in self._speaker:
            offset = round((start - played_at) * MULAW_RATE)
            if offset >= len(samples) or offset + FRAME_BYTES <= 0:
                continue
            lo, hi = max(0, offset), min(len(samples), offset + FRAME_BYTES)
            echo[lo - offset : hi - offset] += samples[lo:hi]
        mixed = np.frombuffer(mulaw_to_pcm16(frame), dtype="<i2") + gain * echo
        return pcm16_to_mulaw(np.clip(mixed, -32768, 32767).astype("<i2").tobytes())

    async def silence(self, seconds: float) -> None:
        """Send `seconds` of mu-law silence in real time (a caller who says nothing)."""
        n_frames = round(seconds / FRAME_SECONDS)
        await self.play_mulaw(bytes([MULAW_SILENCE]) * (FRAME_BYTES * n_frames))

    async def silent_until(self, waiting: Awaitable[T]) -> T:
        """Send the line's silence in real time, as Twilio streams a caller who says nothing,
        until `waiting` is done; its result."""

        async def line() -> None:
            while True:
                await self.silence(1.0)

        sending = asyncio.create_task(line())
        try:
            return await waiting
        finally:
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending

    async def send_dtmf(self, digit: str) -> None:
        """Press a key, as Twilio reports it."""
        await self._send_event("dtmf", dtmf={"track": "inbound_track", "digit": digit})

    async def send_raw(self, message: str | bytes) -> None:
        """Send a frame exactly as given (to inject malformed input)."""
        await self._connection.send(message)

    async def _send_event(self, event: str, **body: Any) -> None:
        self._sequence += 1
        message = {"event": event, "sequenceNumber": str(self._sequence), **body}
        message["streamSid"] = self.stream_sid
        await self.send_raw(json.dumps(message))

    # --- what the agent sent ------------------------------------------------------------------

    def received_audio(self) -> bytes:
        """All agent audio received, as mu-law 8 kHz, in arrival order."""
        return b"".join(item.mulaw for item in self.media)

    @property
    def audio_frames(self) -> int:
        """Agent audio received so far, in whole 20 ms frames (a media message may carry
        several: Velox sends three at a time)."""
        return sum(len(item.mulaw) for item in self.media) // FRAME_BYTES

    @property
    def first_audio_at(self) -> float | None:
        return self.media[0].at if self.media else None

    @property
    def last_audio_at(self) -> float | None:
        return self.media[-1].at if self.media else None

    @property
    def played_audio_seconds(self) -> float:
        """Agent audio that has played out so far (not cleared, not still buffered)."""
        still_buffered = max(0.0, self._play_end - time.monotonic())
        return self._queued_seconds - self._discarded_seconds - still_buffered

    @property
    def playback_finished(self) -> bool:
        return time.monotonic() >= self._play_end

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    # The wait helpers take `timeout` (not `asyncio.timeout`) so a test reads as one line.
    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Return once `predicate()` holds; raise TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {what} within {timeout} s")
            await asyncio.sleep(0.005)

    async def wait_for_audio(self, timeout: float) -> None:  # noqa: ASYNC109
        await self.wait_for(lambda: bool(self.media), timeout, "agent audio")

    async def wait_for_clear(self, timeout: float, count: int = 1) -> None:  # noqa: ASYNC109
        await self.wait_for(lambda: len(self.clears) >= count, timeout, "clear")

    async def wait_for_close(self, timeout: float) -> None:  # noqa: ASYNC109
        await self.wait_for(lambda: self.closed, timeout, "close")

    async def wait_until_quiet(self, silence_s: float, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until no agent audio arrived for `silence_s` and everything received has played."""

        def quiet() -> bool:
            last = self.last_audio_at or self._started_at
            return time.monotonic() - last >= silence_s and self.playback_finished

        await self.wait_for(quiet, timeout, f"{silence_s} s of quiet")

    # --- Twilio's side of the protocol --------------------------------------------------------

    @property
    def _connection(self) -> ClientConnection:
        if self._ws is None:
            raise RuntimeError("use `async with TwilioCaller(...)` to connect first")
        return self._ws

    async def _receive(self) -> None:
        try:
            async for message in self._connection:
                await self._on_message(message)
        except ConnectionClosed:
            pass
        finally:
            self.closed_at = time.monotonic()

    async def _on_message(self, message: str | bytes) -> None:
        now = time.monotonic()
        try:
            parsed = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or parsed.get("streamSid") != self.stream_sid:
            self.malformed.append(message)
            return
        event = parsed.get("event")
        if event == "media":
            try:
                mulaw = base64.b64decode(parsed["media"]["payload"], validate=True)
            except (KeyError, TypeError, ValueError):
                self.malformed.append(message)
                return
            self.media.append(ReceivedMedia(now, mulaw))
            duration = len(mulaw) / MULAW_RATE
            samples = np.frombuffer(mulaw_to_pcm16(mulaw), dtype="<i2").astype(np.float64)
            self._speaker.append((max(self._play_end, now), samples))
            self._queued_seconds += duration
            self._play_end = max(self._play_end, now) + duration
        elif event == "mark" and isinstance(parsed.get("mark"), dict):
            name = str(parsed["mark"].get("name"))
            self.marks_received.append(ReceivedMark(name, now))
            self._pending_marks.append(_PendingMark(name, max(self._play_end, now)))
            self._marks_changed.set()
        elif event == "clear":
            self.clears.append(now)
            self._speaker = [
                (at, samples[: max(0, round((now - at) * MULAW_RATE))])
                for at, samples in self._speaker
                if at < now
            ]
            self._discarded_seconds += max(0.0, self._play_end - now)
            self._play_end = now
            cleared = list(self._pending_marks)
            self._pending_marks.clear()
            self._marks_changed.set()
            for mark in cleared:
                await self._echo(mark.name, cleared=True)
        else:
            self.malformed.append(message)

    async def _echo_marks(self) -> None:
        """Echo each pending mark once playback reaches it, in the order they were queued."""
        while True:
            self._marks_changed.clear()
            if not self._pending_marks:
                await self._marks_changed.wait()
                continue
            delay = self._pending_marks[0].due - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._marks_changed.wait(), delay)
                continue
            mark = self._pending_marks.popleft()
            await self._echo(mark.name, cleared=False)

    async def _echo(self, name: str, *, cleared: bool) -> None:
        self.marks_echoed.append(EchoedMark(name, time.monotonic(), cleared))
        with contextlib.suppress(ConnectionClosed):
            await self._send_event("mark", mark={"name": name})

    async def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
