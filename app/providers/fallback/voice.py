"""The voice part of a fallback chain: a voice that fails before any audio of a sentence is
heard is replaced for that very sentence; one that fails mid-sentence is replaced for the next
(the responder says its fallback line). See `app.providers.fallback.chain`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

from app.audio.formats import AudioChunk, AudioFormat
from app.observability.metrics import PROVIDER_LATENCY
from app.providers.base import (
    ProviderError,
    SessionTextToSpeech,
    TextToSpeech,
    TtsSession,
    close_stream,
)
from app.providers.fallback.chain import Chain, describe, open_with_retries, within

log = logging.getLogger(__name__)


class FallbackTextToSpeech:
    def __init__(
        self,
        chain: Chain[TextToSpeech],
        first_byte_timeout_s: float,
        fallback_voices: dict[str, str],
    ) -> None:
        self.chain = chain
        self._timeout_s = first_byte_timeout_s
        self._voices = fallback_voices
        self._line: AudioFormat | None = None

    @property
    def name(self) -> str:
        return self.chain.name

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        self._line = preferred
        return self.chain.members[self.chain.current].output_format(preferred)

    @property
    def first_byte_timeout_s(self) -> float:
        return self._timeout_s

    def voice_for(self, index: int, voice_id: str) -> str:
        """The agent's voice id for its own voice; a fallback voice's configured id."""
        if index == 0:
            return voice_id
        return self._voices.get(str(self.chain.members[index].name), "default")

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        line = self._line or audio_format

        async def one_shot(index: int) -> AsyncIterator[AudioChunk]:
            provider = self.chain.members[index]
            return provider.synthesize(
                text, self.voice_for(index, voice_id), provider.output_format(line)
            )

        async for chunk in self.speak(one_shot):
            yield chunk

    async def open_session(self, voice_id: str, audio_format: AudioFormat) -> FallbackTtsSession:
        """A call-long session: the voice in use connects now, a fallback voice when needed."""
        self._line = audio_format
        session = FallbackTtsSession(self, voice_id, audio_format)
        await session.connect(self.chain.current)
        return session

    async def speak(
        self, open_stream: Callable[[int], Awaitable[AsyncIterator[AudioChunk]]]
    ) -> AsyncIterator[AudioChunk]:
        """One sentence from the first voice of the chain that speaks it."""
        for index in self.chain.candidates():
            provider = self.chain.members[index]
            started = time.monotonic()
            spoke = False
            stream: AsyncIterator[AudioChunk] | None = None
            # With no voice left to turn to, a slow one is waited for rather than abandoned.
            last = index == len(self.chain.members) - 1
            try:
                async with asyncio.timeout(None if last else self._timeout_s):
                    stream = await open_stream(index)
                    first = await anext(stream)
                PROVIDER_LATENCY.labels("tts", provider.name, "first_byte").observe(
                    time.monotonic() - started
                )
                spoke = True
                yield first
                # A voice that stalls mid-sentence is a voice that failed: the caller must not
                # be left listening to nothing while another voice could speak.
                async for chunk in stream if last else within(stream, self._timeout_s):
                    yield chunk
                self.chain.succeeded(index)
                return
            except StopAsyncIteration:
                self.chain.succeeded(index)
                return
            except Exception as error:
                self.chain.failed(index, error, time.monotonic() - started)
                if spoke:  # part of the sentence was heard: the responder recovers
                    raise ProviderError(
                        provider.name, f"voice failed: {describe(error)}"
                    ) from error
            finally:
                if stream is not None:
                    await close_stream(stream)
        raise ProviderError(self.chain.role, "every voice of the fallback chain failed")


class FallbackTtsSession:
    """The call-long sessions of a voice chain: one per voice that has been used, opened lazily."""

    def __init__(
        self, owner: FallbackTextToSpeech, voice_id: str, audio_format: AudioFormat
    ) -> None:
        self._owner = owner
        self._voice_id = voice_id
        self._line = audio_format
        self._sessions: dict[int, TtsSession | None] = {}

    async def connect(self, index: int) -> TtsSession | None:
        """Voice `index`'s session, opened on first use; None for a voice without sessions."""
        if index in self._sessions:
            return self._sessions[index]
        provider = self._owner.chain.members[index]
        session: TtsSession | None = None
        if isinstance(provider, SessionTextToSpeech):
            try:
                session = await open_with_retries(
                    partial(
                        provider.open_session,
                        self._owner.voice_for(index, self._voice_id),
                        provider.output_format(self._line),
                    ),
                    timeout_s=self._owner.first_byte_timeout_s,
                )
            except Exception as error:
                log.warning(
                    "voice %s: no session (%s); one request per sentence",
                    provider.name,
                    describe(error),
                )
        self._sessions[index] = session
        return session

    async def synthesize(self, text: str, *, turn_id: str) -> AsyncIterator[AudioChunk]:
        async def in_session(index: int) -> AsyncIterator[AudioChunk]:
            session = await self.connect(index)
            if session is not None:
                return session.synthesize(text, turn_id=turn_id)
            provider = self._owner.chain.members[index]
            return provider.synthesize(
                text,
                self._owner.voice_for(index, self._voice_id),
                provider.output_format(self._line),
            )

        async for chunk in self._owner.speak(in_session):
            yield chunk

    async def end_turn(self, turn_id: str) -> None:
        for session in self._open():
            await session.end_turn(turn_id)

    async def cancel(self, turn_id: str) -> None:
        for session in self._open():
            await session.cancel(turn_id)

    async def aclose(self) -> None:
        for session in self._open():
            try:
                await session.aclose()
            except Exception as error:
                log.info("closing a voice session failed: %s", describe(error))
        self._sessions.clear()

    def _open(self) -> list[TtsSession]:
        return [session for session in self._sessions.values() if session is not None]
