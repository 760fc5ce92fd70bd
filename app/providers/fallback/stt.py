"""The recognizer part of a fallback chain: a broken or overdue stream is replaced by the next
recognizer's, and listening goes on. See `app.providers.fallback.chain`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from app.observability.metrics import PROVIDER_LATENCY
from app.providers.base import (
    ProviderError,
    SpeechToText,
    StartsFinalsEarly,
    SttStream,
    Transcript,
    close_stream,
)
from app.providers.fallback.chain import Chain, open_with_retries

log = logging.getLogger(__name__)


class FallbackSpeechToText:
    def __init__(
        self, chain: Chain[SpeechToText], connect_timeout_s: float, final_timeout_s: float
    ) -> None:
        self.chain = chain
        self.connect_timeout_s = connect_timeout_s
        self.final_timeout_s = final_timeout_s

    @property
    def name(self) -> str:
        return self.chain.name

    async def open_stream(self, language: str) -> FallbackSttStream:
        stream = await self.connect(language)
        return FallbackSttStream(self, language, stream)

    async def connect(self, language: str) -> SttStream:
        """The first recognizer of the chain that can be reached, from the one in use."""
        last_error: BaseException | None = None
        for index in self.chain.candidates():
            provider = self.chain.members[index]
            started = time.monotonic()
            try:
                stream = await open_with_retries(
                    partial(provider.open_stream, language), timeout_s=self.connect_timeout_s
                )
            except Exception as error:
                self.chain.failed(index, error, time.monotonic() - started)
                last_error = error
                continue
            self.chain.current = index
            return stream
        raise ProviderError(self.chain.role, f"no recognizer reachable: {last_error}")


class FallbackSttStream:
    """One call's recognizer that moves to the next provider when its stream breaks."""

    def __init__(self, owner: FallbackSpeechToText, language: str, stream: SttStream) -> None:
        self._owner = owner
        self._language = language
        self._stream = stream
        self._switching = False
        self._closed = False
        self._finalize_at: float | None = None
        self._waiting: asyncio.Timeout | None = None  # the transcript loop's wait, if waiting

    async def push_audio(self, frame: bytes) -> None:
        if self._switching:
            self._owner.chain.observer.count("stt_frames_lost_in_fallback")
            return
        try:
            await self._stream.push_audio(frame)
        except Exception as error:
            log.info("stt push failed (%s); the transcript loop moves on", error)

    async def caller_pausing(self, pause_in_ms: int) -> None:
        stream = self._stream
        if self._switching or not isinstance(stream, StartsFinalsEarly):
            return
        try:
            await stream.caller_pausing(pause_in_ms)
        except Exception as error:
            log.info("stt early final failed (%s); the final will follow", error)

    async def finalize(self) -> None:
        self._finalize_at = time.monotonic()
        if self._waiting is not None:
            self._waiting.reschedule(self._final_deadline())
        try:
            await self._stream.finalize()
        except Exception as error:
            log.info("stt finalize failed (%s); the transcript loop moves on", error)

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while not self._closed:
            chain = self._owner.chain
            index = chain.current
            stream = self._stream
            iterator = stream.transcripts()
            try:
                while True:
                    transcript = await self._next(iterator, chain)
                    if transcript is None:
                        return
                    if transcript.is_final:
                        chain.succeeded(index)  # a recognizer that delivers finals works
                    if transcript.is_final and self._finalize_at is not None:
                        PROVIDER_LATENCY.labels("stt", chain.name, "final").observe(
                            time.monotonic() - self._finalize_at
                        )
                        self._finalize_at = None
                    yield transcript
            except Exception as error:
                if self._closed:
                    return
                chain.failed(index, error, 0.0)
                await close_stream(iterator)
                await self._switch(stream)
                yield Transcript("", is_final=False, recognizer_lost=True)

    async def _next(
        self, iterator: AsyncIterator[Transcript], chain: Chain[Any]
    ) -> Transcript | None:
        """The next transcript; a final overdue past the deadline counts as a failure when
        there is a recognizer to move to. The deadline is set by `finalize()` even while this
        wait is in progress: a recognizer that goes quiet after its interims is caught too."""
        async with asyncio.timeout_at(self._final_deadline()) as timeout:
            self._waiting = timeout
            try:
                return await anext(iterator)
            except StopAsyncIteration:
                return None
            finally:
                self._waiting = None

    def _final_deadline(self) -> float | None:
        """When the final asked for is overdue, in event-loop time; None when not waited for."""
        if self._finalize_at is None or not self._owner.chain.has_fallback():
            return None
        left = self._finalize_at + self._owner.final_timeout_s - time.monotonic()
        return asyncio.get_running_loop().time() + left

    async def _switch(self, broken: SttStream) -> None:
        self._switching = True
        self._finalize_at = None
        try:
            try:
                await broken.aclose()
            except Exception as error:
                log.info("closing a broken stt stream failed: %s", error)
            self._stream = await self._owner.connect(self._language)
        finally:
            self._switching = False

    async def aclose(self) -> None:
        self._closed = True
        await self._stream.aclose()
