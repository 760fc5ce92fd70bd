"""Audio interfaces for the official `elevenlabs` SDK that play a recording and keep what they hear.

The SDK hands the interface's microphone audio to the conversation socket and the agent's audio
back to `output`; these play test audio (real speech, synthesized) in real time, in the 250 ms
chunks the SDK recommends, and record the agent's audio and every interruption.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from elevenlabs.conversational_ai.conversation import AsyncAudioInterface, AudioInterface

SAMPLE_RATE = 16_000
CHUNK_MS = 250
CHUNK_BYTES = SAMPLE_RATE * 2 * CHUNK_MS // 1000


class RecordingAsyncAudio(AsyncAudioInterface):
    """A microphone the test speaks into (`say`), and a speaker that records."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.interruptions = 0
        self.last_output_at = 0.0
        self._send: Callable[[bytes], Awaitable[None]] | None = None
        self._silence_task: asyncio.Task[None] | None = None
        self._speaking = asyncio.Lock()

    async def start(self, input_callback: Callable[[bytes], Awaitable[None]]) -> None:
        self._send = input_callback
        self._silence_task = asyncio.create_task(self._silence())

    async def stop(self) -> None:
        if self._silence_task is not None:
            self._silence_task.cancel()
        self._send = None

    async def output(self, audio: bytes) -> None:
        self.received.extend(audio)
        self.last_output_at = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        """No agent audio has arrived for `seconds` (what was sent has played out)."""
        return time.monotonic() - self.last_output_at >= seconds

    async def interrupt(self) -> None:
        self.interruptions += 1

    async def say(self, pcm16: bytes) -> None:
        """Send `pcm16` (16 kHz) as a microphone would: in real time."""
        async with self._speaking:
            start = time.monotonic()
            for index, offset in enumerate(range(0, len(pcm16), CHUNK_BYTES)):
                if self._send is None:
                    return
                await self._send(pcm16[offset : offset + CHUNK_BYTES])
                due = start + (index + 1) * CHUNK_MS / 1000
                await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def _silence(self) -> None:
        """A live microphone sends silence while nobody speaks."""
        quiet = bytes(CHUNK_BYTES)
        while self._send is not None:
            if not self._speaking.locked():
                await self._send(quiet)
            await asyncio.sleep(CHUNK_MS / 1000)


class RecordingAudio(AudioInterface):
    """The same for the SDK's thread-based `Conversation`."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.interruptions = 0
        self._send: Callable[[bytes], None] | None = None
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, input_callback: Callable[[bytes], None]) -> None:
        self._send = input_callback
        self._thread = threading.Thread(target=self._microphone, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def output(self, audio: bytes) -> None:
        with self._lock:
            self.received.extend(audio)

    def interrupt(self) -> None:
        self.interruptions += 1

    def say(self, pcm16: bytes) -> None:
        with self._lock:
            self._pending.extend(pcm16)

    def _microphone(self) -> None:
        start = time.monotonic()
        index = 0
        while not self._stop.is_set():
            with self._lock:
                chunk = bytes(self._pending[:CHUNK_BYTES])
                del self._pending[:CHUNK_BYTES]
            if self._send is not None:
                self._send(chunk + bytes(CHUNK_BYTES - len(chunk)))
            index += 1
            self._stop.wait(max(0.0, start + index * CHUNK_MS / 1000 - time.monotonic()))
