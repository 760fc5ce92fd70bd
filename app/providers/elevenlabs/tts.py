"""ElevenLabs streaming text-to-speech over its documented WebSocket APIs.

The `elevenlabs` SDK (2.78.0) offers WebSocket input streaming only as a synchronous generator
(`convert_realtime`, one `stream-input` socket per call, no multi-context), so this module speaks
the wire protocol itself with `websockets`. Phone calls get `ulaw_8000` straight from the service
(no resampling); other lines get PCM16 at the asked rate when ElevenLabs makes it, else 16 kHz.

Errors arrive in three shapes, all turned into `ProviderError` with the HTTP-like status:
a refused upgrade (HTTP status), or a JSON `{"message", "error", "code"}` followed by a close
(1008 policy violation for a bad key, quota or too many contexts; 1011 for a server fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.protocol import State

from app.aio import cancel_and_wait
from app.audio.formats import MULAW_8K, PCM16_16K, AudioChunk, AudioFormat
from app.providers.base import ProviderError
from app.providers.elevenlabs.wire import (
    NAME,
    AudioEvent,
    ErrorEvent,
    FinalEvent,
    MalformedMessageError,
    closed_failure,
    failure,
    parse_server_message,
    websocket_base,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 1.0
# Longest wait for the next message once a sentence has started (or been closed).
STALL_TIMEOUT_S = 10.0
# A sentence that made no audio this long is closed anyway, so that its isFinal ends it.
CLOSE_WITHOUT_AUDIO_AFTER_S = 5.0
# The service's maximum: the call's socket survives a caller who talks for three minutes.
INACTIVITY_TIMEOUT_S = 180
MAX_MESSAGE_BYTES = 16 * 2**20

FORMAT_NAMES: dict[AudioFormat, str] = {
    MULAW_8K: "ulaw_8000",
    AudioFormat("alaw", 8000): "alaw_8000",
    **{AudioFormat("pcm16", rate): f"pcm_{rate}" for rate in (8000, 16000, 22050, 24000, 44100)},
}


# The `error` field of the JSON the service sends before a policy close, by HTTP meaning.
async def open_socket(url: str, api_key: str) -> ClientConnection:
    """The WebSocket handshake, with refusals and unreachable hosts as `ProviderError`."""
    try:
        return await connect(
            url,
            additional_headers={"xi-api-key": api_key},
            open_timeout=CONNECT_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
            max_size=MAX_MESSAGE_BYTES,
        )
    except InvalidStatus as error:
        status = error.response.status_code
        body = error.response.body.decode("utf-8", "replace")[:300] if error.response.body else ""
        raise failure(f"the connection was refused with HTTP {status} {body}", status) from error
    except (OSError, InvalidHandshake) as error:
        raise failure(f"could not connect to {url.split('?')[0]}: {error!r}", None) from error


class ElevenLabsTextToSpeech:
    """ElevenLabs voices (Flash v2.5 by default) streamed over WebSocket."""

    name = NAME

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.elevenlabs.io",
        model_id: str = "eleven_flash_v2_5",
        voice_settings: Mapping[str, float | bool] | None = None,
    ) -> None:
        self.api_key = api_key
        self.model_id = model_id
        self._ws_base = websocket_base(base_url)
        self._voice_settings = dict(voice_settings) if voice_settings else None
        self.malformed_messages = 0

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        """`preferred` when ElevenLabs makes it (mu-law 8 kHz for phones), else PCM16 16 kHz."""
        return preferred if preferred in FORMAT_NAMES else PCM16_16K

    def url(self, voice_id: str, audio_format: AudioFormat, *, multi: bool) -> str:
        name = FORMAT_NAMES.get(audio_format)
        if name is None:
            raise ProviderError(
                NAME, f"ElevenLabs cannot make {audio_format}; use output_format() to choose"
            )
        query = {"model_id": self.model_id, "output_format": name, "auto_mode": "true"}
        if multi:
            query["inactivity_timeout"] = str(INACTIVITY_TIMEOUT_S)
        path = "multi-stream-input" if multi else "stream-input"
        return f"{self._ws_base}/v1/text-to-speech/{quote(voice_id, safe='')}/{path}?" + urlencode(
            query
        )

    def first_message(self) -> dict[str, Any]:
        """What the first message of a connection carries besides its text (voice settings)."""
        return {"voice_settings": self._voice_settings} if self._voice_settings else {}

    def count_malformed(self, error: MalformedMessageError) -> None:
        self.malformed_messages += 1
        log.warning("skipped a malformed ElevenLabs message: %s", error)

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        """One utterance on its own `stream-input` socket; it ends at `isFinal`."""
        url = self.url(voice_id, audio_format, multi=False)
        if not text.strip():
            return
        socket = await open_socket(url, self.api_key)
        last_error: ErrorEvent | None = None
        try:
            # A refusal closes the socket; its reason is read below.
            with contextlib.suppress(ConnectionClosed):
                for message in (
                    {"text": " ", **self.first_message()},
                    {"text": text.strip() + " ", "flush": True},
                    {"text": ""},
                ):
                    await socket.send(json.dumps(message))
            while True:
                try:
                    async with asyncio.timeout(STALL_TIMEOUT_S):
                        raw = await socket.recv()
                except TimeoutError:
                    raise failure(f"no audio for {STALL_TIMEOUT_S:.0f} s", None) from None
                except ConnectionClosed:
                    if socket.close_code == 1000 and last_error is None:
                        return
                    raise closed_failure(
                        socket.close_code, socket.close_reason or "", last_error
                    ) from None
                try:
                    event = parse_server_message(raw)
                except MalformedMessageError as error:
                    self.count_malformed(error)
                    continue
                if isinstance(event, AudioEvent):
                    yield AudioChunk(event.audio, audio_format)
                elif isinstance(event, FinalEvent):
                    return
                elif isinstance(event, ErrorEvent):
                    last_error = event
        finally:
            await socket.close()

    async def open_session(self, voice_id: str, audio_format: AudioFormat) -> ElevenLabsSession:
        """Connects now, so the call's first sentence pays no handshake."""
        session = ElevenLabsSession(
            self, self.url(voice_id, audio_format, multi=True), audio_format
        )
        await session.connect()
        return session


class _Stop:
    """Wakes a sentence's reader after cancel or close."""


_STOP = _Stop()


@dataclass(slots=True, eq=False)
class _Sentence:
    turn_id: str
    socket: ClientConnection
    queue: asyncio.Queue[AudioEvent | FinalEvent | ProviderError | _Stop]
    closed: bool = False
    cancelled: bool = False


class ElevenLabsSession:
    """One call's `multi-stream-input` socket; each sentence is its own context.

    Sentence boundaries: the service sends `isFinal` for a context only after `close_context`
    (a bare `flush` sends no end signal), so every sentence is sent with `flush` in a context
    of its own, closed as soon as its first audio arrives (closing earlier can race the
    synthesis and drop the audio), and its `isFinal` ends `synthesize`. The trade-off: the
    sentences of a turn do not share a context, so prosody is not carried across them.
    `cancel` closes the turn's live context and drops its remaining audio at once.
    """

    def __init__(self, owner: ElevenLabsTextToSpeech, url: str, audio_format: AudioFormat) -> None:
        self._owner = owner
        self._url = url
        self.format = audio_format
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sentences: dict[str, _Sentence] = {}
        self._ids = itertools.count(1)
        self._settings_sent = False
        self._connecting = asyncio.Lock()
        self._closed = False
        self.connections = 0

    async def connect(self) -> None:
        socket = await open_socket(self._url, self._owner.api_key)
        self._socket = socket
        self._settings_sent = False
        self.connections += 1
        self._reader = asyncio.create_task(self._read(socket))

    async def _open_socket(self) -> ClientConnection:
        if self._closed:
            raise ProviderError(NAME, "the session is closed; open a new one for the next call")
        async with self._connecting:
            if self._socket is None or self._socket.state is not State.OPEN:
                await self.connect()
            assert self._socket is not None
            return self._socket

    async def synthesize(self, text: str, *, turn_id: str) -> AsyncIterator[AudioChunk]:
        if not text.strip():
            return
        socket = await self._open_socket()
        context_id = f"{turn_id}-{next(self._ids)}"
        sentence = _Sentence(turn_id, socket, asyncio.Queue())
        self._sentences[context_id] = sentence
        try:
            opening: dict[str, Any] = {"text": " ", "context_id": context_id}
            if not self._settings_sent:
                # The service refuses voice settings on any later context of the socket.
                opening.update(self._owner.first_message())
                self._settings_sent = True
            await _send(socket, opening)
            await _send(
                socket, {"text": text.strip() + " ", "context_id": context_id, "flush": True}
            )
            while True:
                timeout = STALL_TIMEOUT_S if sentence.closed else CLOSE_WITHOUT_AUDIO_AFTER_S
                try:
                    async with asyncio.timeout(timeout):
                        item = await sentence.queue.get()
                except TimeoutError:
                    if sentence.closed:
                        raise failure(f"no audio for {STALL_TIMEOUT_S:.0f} s", None) from None
                    await self._close_context(socket, context_id, sentence)
                    continue
                if sentence.cancelled:
                    return
                if isinstance(item, AudioEvent):
                    if not sentence.closed:
                        await self._close_context(socket, context_id, sentence)
                    yield AudioChunk(item.audio, self.format)
                elif isinstance(item, ProviderError):
                    raise item
                else:
                    return
        finally:
            self._sentences.pop(context_id, None)
            if not sentence.closed:
                with contextlib.suppress(ProviderError):
                    await self._close_context(socket, context_id, sentence)

    async def end_turn(self, turn_id: str) -> None:
        """Nothing to send: each sentence's context is already closed once its audio starts."""

    async def cancel(self, turn_id: str) -> None:
        """Barge-in: close the turn's live contexts and drop whatever audio is still coming."""
        for context_id, sentence in list(self._sentences.items()):
            if sentence.turn_id != turn_id:
                continue
            del self._sentences[context_id]
            sentence.cancelled = True
            sentence.queue.put_nowait(_STOP)
            if not sentence.closed:
                with contextlib.suppress(ProviderError):
                    await self._close_context(sentence.socket, context_id, sentence)

    async def aclose(self) -> None:
        self._closed = True
        for sentence in self._sentences.values():
            sentence.cancelled = True
            sentence.queue.put_nowait(_STOP)
        self._sentences.clear()
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(ProviderError):
                await _send(socket, {"close_socket": True})
            await socket.close()
        if self._reader is not None:
            await cancel_and_wait(self._reader)

    async def _close_context(
        self, socket: ClientConnection, context_id: str, sentence: _Sentence
    ) -> None:
        sentence.closed = True
        if socket.state is State.OPEN:
            await _send(socket, {"context_id": context_id, "close_context": True})

    async def _read(self, socket: ClientConnection) -> None:
        last_error: ErrorEvent | None = None
        with contextlib.suppress(ConnectionClosed):
            async for raw in socket:
                try:
                    event = parse_server_message(raw)
                except MalformedMessageError as error:
                    self._owner.count_malformed(error)
                    continue
                if isinstance(event, ErrorEvent):
                    log.warning("ElevenLabs reported %s: %s", event.error, event.message)
                    last_error = event
                elif event is not None:
                    # Audio of a cancelled or finished sentence has no reader: dropped.
                    sentence = self._sentences.get(event.context_id or "")
                    if sentence is not None:
                        sentence.queue.put_nowait(event)
        if self._closed:
            return
        lost = closed_failure(socket.close_code, socket.close_reason or "", last_error)
        log.warning("ElevenLabs session socket closed: %s", lost)
        for sentence in self._sentences.values():
            if sentence.socket is socket:
                sentence.queue.put_nowait(lost)


async def _send(socket: ClientConnection, message: Mapping[str, Any]) -> None:
    try:
        await socket.send(json.dumps(message))
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
        reason = closed.rcvd.reason if closed.rcvd else ""
        raise closed_failure(code, reason, None) from closed
