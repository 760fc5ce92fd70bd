"""The agent's voice for one call: one connection to the voice service for the whole call.

A provider that can hold a session (`SessionTextToSpeech`) is connected when the call starts, so
the first sentence pays no set-up, and every sentence reuses the connection; sentences of one
agent turn share the turn's id (the service may carry prosody across them), the turn is ended or,
on barge-in, cancelled at the service at once. A provider without sessions speaks each sentence
on its own request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from app.audio.formats import AudioChunk, AudioFormat
from app.providers.base import SessionTextToSpeech, TextToSpeech, TtsSession

log = logging.getLogger(__name__)


class CallVoice:
    def __init__(self, tts: TextToSpeech, voice_id: str, audio_format: AudioFormat) -> None:
        self._tts = tts
        self._voice_id = voice_id
        self._format = audio_format
        self._session: TtsSession | None = None

    @property
    def name(self) -> str:
        return self._tts.name

    async def open(self) -> None:
        """Connect now (the pre-warm); a voice that cannot is used sentence by sentence."""
        if not isinstance(self._tts, SessionTextToSpeech):
            return
        try:
            self._session = await self._tts.open_session(self._voice_id, self._format)
        except Exception as error:
            log.warning(
                "voice %s: no call-long session (%s); one request per sentence",
                self._tts.name,
                error,
            )

    def synthesize(self, text: str, turn_id: str) -> AsyncIterator[AudioChunk]:
        if self._session is not None:
            return self._session.synthesize(text, turn_id=turn_id)
        return self._tts.synthesize(text, self._voice_id, self._format)

    async def end_turn(self, turn_id: str) -> None:
        if self._session is not None:
            await self._session.end_turn(turn_id)

    async def cancel(self, turn_id: str) -> None:
        if self._session is not None:
            await self._session.cancel(turn_id)

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.aclose()
