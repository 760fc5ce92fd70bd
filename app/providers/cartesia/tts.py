"""Cartesia Sonic streaming text-to-speech over its TTS WebSocket, through the `cartesia` SDK.

The SDK (4.2.0) opens the socket: `AsyncCartesia(base_url=…).tts.websocket_connect()` builds
`wss://…/tts/websocket`, sends `Authorization: Bearer <key>` and `Cartesia-Version`, and its
`send` writes our generation requests. Receiving is done here: the SDK's per-context helpers
wait forever when the socket drops and stop at the first undecodable message, and a call needs
both to be errors it can speak about. Phone lines get `pcm_mulaw` 8 kHz straight from Sonic.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

from cartesia import AsyncCartesia
from cartesia.lib._tts import AsyncTTSResourceConnection
from cartesia.types.websocket_client_event_param import WebsocketClientEventParam
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from app.aio import cancel_and_wait
from app.audio.formats import MULAW_8K, PCM16_16K, AudioChunk, AudioFormat
from app.providers.base import ProviderError
from app.providers.cartesia.wire import (
    NAME,
    CartesiaEvent,
    Chunk,
    Done,
    FlushDone,
    MalformedMessageError,
    ServiceError,
    connection_lost,
    failure,
    parse_server_message,
    websocket_base,
)

log = logging.getLogger(__name__)

# The Cartesia-Version header that cartesia 4.2.0 sends (`AsyncCartesia.default_headers`).
SDK_API_VERSION = "2026-08-14"
STALL_TIMEOUT_S = 10.0
MAX_MESSAGE_BYTES = 16 * 2**20
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
ENCODINGS = {"pcm16": "pcm_s16le", "mulaw": "pcm_mulaw", "alaw": "pcm_alaw"}


class CartesiaTextToSpeech:
    """Cartesia Sonic voices streamed over the TTS WebSocket."""

    name = NAME

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.cartesia.ai",
        model_id: str = "sonic-2",
        version: str = SDK_API_VERSION,
        language: str = "en",
    ) -> None:
        self.model_id = model_id
        self.language = language
        self._client = AsyncCartesia(
            api_key=api_key,
            base_url=base_url,
            websocket_base_url=websocket_base(base_url),
            default_headers={"cartesia-version": version},
            max_retries=0,
        )
        self.malformed_messages = 0

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        """`preferred` when Sonic makes it (mu-law 8 kHz for phones), else PCM16 16 kHz."""
        made = preferred.encoding in ENCODINGS and preferred.sample_rate in SAMPLE_RATES
        telephony = preferred.encoding != "pcm16" and preferred.sample_rate == MULAW_8K.sample_rate
        return preferred if made and (preferred.encoding == "pcm16" or telephony) else PCM16_16K

    def request(
        self,
        voice_id: str,
        audio_format: AudioFormat,
        context_id: str,
        transcript: str,
        *,
        more: bool,
        flush: bool = False,
    ) -> WebsocketClientEventParam:
        if self.output_format(audio_format) != audio_format:
            raise ProviderError(
                NAME, f"Cartesia cannot make {audio_format}; use output_format() to choose"
            )
        request: dict[str, Any] = {
            "model_id": self.model_id,
            "transcript": transcript,
            "voice": {"mode": "id", "id": voice_id},
            "output_format": {
                "container": "raw",
                "encoding": ENCODINGS[audio_format.encoding],
                "sample_rate": audio_format.sample_rate,
            },
            "language": self.language,
            "context_id": context_id,
            "continue": more,
        }
        if flush:
            request["flush"] = True
        return cast(WebsocketClientEventParam, request)

    def count_malformed(self, error: MalformedMessageError) -> None:
        self.malformed_messages += 1
        log.warning("skipped a malformed Cartesia message: %s", error)

    async def connect(self) -> AsyncTTSResourceConnection:
        """The WebSocket handshake, with refusals and unreachable hosts as `ProviderError`."""
        manager = self._client.tts.websocket_connect(
            websocket_connection_options={"max_size": MAX_MESSAGE_BYTES}
        )
        try:
            return await manager.enter()
        except InvalidStatus as error:
            status = error.response.status_code
            body = (
                error.response.body.decode("utf-8", "replace")[:300] if error.response.body else ""
            )
            raise failure(
                f"the connection was refused with HTTP {status} {body}", status
            ) from error
        except (OSError, InvalidHandshake) as error:
            raise failure(f"could not connect to Cartesia: {error!r}", None) from error

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        """One utterance on its own socket: one context, `continue: false`, ends at `done`."""
        request = self.request(voice_id, audio_format, "utterance", text.strip(), more=False)
        if not text.strip():
            return
        connection = await self.connect()
        try:
            await connection.send(request)
            while True:
                try:
                    async with asyncio.timeout(STALL_TIMEOUT_S):
                        raw = await connection.recv_bytes()
                except TimeoutError:
                    raise failure(f"no audio for {STALL_TIMEOUT_S:.0f} s", None) from None
                except ConnectionClosed as closed:
                    raise connection_lost(closed) from None
                try:
                    event = parse_server_message(raw)
                except MalformedMessageError as error:
                    self.count_malformed(error)
                    continue
                if isinstance(event, Chunk):
                    yield AudioChunk(event.audio, audio_format)
                elif isinstance(event, Done):
                    return
                elif isinstance(event, ServiceError):
                    raise failure(f"synthesis failed: {event.message}", event.status)
        finally:
            await connection.close()

    async def open_session(self, voice_id: str, audio_format: AudioFormat) -> CartesiaSession:
        """Connects now, so the call's first sentence pays no handshake."""
        self.request(voice_id, audio_format, "check", "", more=False)
        session = CartesiaSession(self, voice_id, audio_format)
        await session.connect()
        return session


class _End:
    """Ends a sentence's stream: its flush is done, or it was cancelled."""


_END = _End()


@dataclass(eq=False)
class _Sentence:
    queue: asyncio.Queue[bytes | ProviderError | _End] = field(default_factory=asyncio.Queue)
    abandoned: bool = False
    stopped: bool = False


@dataclass(eq=False)
class _Turn:
    context_id: str
    connection: AsyncTTSResourceConnection
    pending: deque[_Sentence] = field(default_factory=deque)
    sentences_sent: int = 0


class CartesiaSession:
    """One call's socket; each agent turn is one context continued sentence by sentence.

    Sentence boundaries: every sentence is sent with `continue: true` (so prosody carries across
    the turn) followed by a manual flush (`transcript: ""`, `continue: true`, `flush: true`).
    Sonic answers a flush with `flush_done` once all audio of the input before it has been
    sent, and generates a context's inputs in order, so chunks belong to the oldest unflushed
    sentence and each `flush_done` ends it. `end_turn` sends `continue: false`; `cancel` sends
    `cancel: true` and drops the turn's remaining audio. Cartesia expires a context about 1 s
    after its last audio, so a turn whose next sentence comes later may be refused; that
    sentence then fails with the service's error and the next turn starts a new context.
    """

    def __init__(self, owner: CartesiaTextToSpeech, voice_id: str, audio_format: AudioFormat):
        self._owner = owner
        self._voice_id = voice_id
        self.format = audio_format
        self._connection: AsyncTTSResourceConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._turns: dict[str, _Turn] = {}
        self._contexts: dict[str, _Turn] = {}
        self._ids = itertools.count(1)
        self._connecting = asyncio.Lock()
        self._closed = False
        self.connections = 0

    async def connect(self) -> None:
        connection = await self._owner.connect()
        self._connection = connection
        self.connections += 1
        self._reader = asyncio.create_task(self._read(connection))

    async def _open_connection(self) -> AsyncTTSResourceConnection:
        if self._closed:
            raise ProviderError(NAME, "the session is closed; open a new one for the next call")
        async with self._connecting:
            if self._connection is None or self._reader is None or self._reader.done():
                await self.connect()
            assert self._connection is not None
            return self._connection

    def _request(self, turn: _Turn, transcript: str, *, more: bool, flush: bool = False) -> Any:
        return self._owner.request(
            self._voice_id, self.format, turn.context_id, transcript, more=more, flush=flush
        )

    async def synthesize(self, text: str, *, turn_id: str) -> AsyncIterator[AudioChunk]:
        if not text.strip():
            return
        connection = await self._open_connection()
        turn = self._turns.get(turn_id)
        if turn is None or turn.context_id not in self._contexts:
            safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", turn_id)[:60]
            turn = _Turn(f"{safe_id}-{next(self._ids)}", connection)
            self._turns[turn_id] = turn
            self._contexts[turn.context_id] = turn
        sentence = _Sentence()
        turn.pending.append(sentence)
        # Inputs of a context are joined verbatim: later sentences need their leading space.
        transcript = text.strip() if turn.sentences_sent == 0 else " " + text.strip()
        turn.sentences_sent += 1
        finished = False
        try:
            await _send(connection, self._request(turn, transcript, more=True))
            await _send(connection, self._request(turn, "", more=True, flush=True))
            while True:
                try:
                    async with asyncio.timeout(STALL_TIMEOUT_S):
                        item = await sentence.queue.get()
                except TimeoutError:
                    raise failure(f"no audio for {STALL_TIMEOUT_S:.0f} s", None) from None
                if sentence.stopped:
                    finished = True
                    return
                if isinstance(item, bytes):
                    yield AudioChunk(item, self.format)
                elif isinstance(item, ProviderError):
                    finished = True
                    raise item
                else:
                    finished = True
                    return
        finally:
            # Its remaining chunks still arrive before its flush_done, and must be dropped.
            sentence.abandoned = not finished

    async def end_turn(self, turn_id: str) -> None:
        """Sends the closing `continue: false`; Sonic answers `done` after the last audio."""
        turn = self._turns.pop(turn_id, None)
        if turn is not None and turn.connection is self._connection:
            with contextlib.suppress(ProviderError):
                await _send(turn.connection, self._request(turn, "", more=False))

    async def cancel(self, turn_id: str) -> None:
        """Barge-in: `cancel: true` for the turn's context; its audio stops at once."""
        turn = self._turns.pop(turn_id, None)
        if turn is None:
            return
        self._contexts.pop(turn.context_id, None)
        _stop(turn)
        if turn.connection is self._connection:
            with contextlib.suppress(ProviderError):
                await _send(turn.connection, {"context_id": turn.context_id, "cancel": True})

    async def aclose(self) -> None:
        self._closed = True
        for turn in self._contexts.values():
            _stop(turn)
        self._turns.clear()
        self._contexts.clear()
        if self._reader is not None:
            await cancel_and_wait(self._reader)
        if self._connection is not None:
            await self._connection.close()

    async def _read(self, connection: AsyncTTSResourceConnection) -> None:
        try:
            while True:
                raw = await connection.recv_bytes()
                try:
                    event = parse_server_message(raw)
                except MalformedMessageError as error:
                    self._owner.count_malformed(error)
                    continue
                if event is not None:
                    self._route(event)
        except ConnectionClosed as closed:
            if self._closed:
                return
            lost = connection_lost(closed)
            log.warning("Cartesia session socket closed: %s", lost)
            for context_id, turn in list(self._contexts.items()):
                if turn.connection is connection:
                    del self._contexts[context_id]
                    _fail(turn, lost)

    def _route(self, event: CartesiaEvent) -> None:
        if isinstance(event, ServiceError):
            log.warning("Cartesia reported %s: %s", event.status, event.message)
            error = failure(f"synthesis failed: {event.message}", event.status)
            ids = [event.context_id] if event.context_id else list(self._contexts)
            for context_id in ids:
                turn = self._contexts.pop(context_id, None)
                if turn is not None:
                    _fail(turn, error)
            return
        turn = self._contexts.get(event.context_id)
        if turn is None:
            return  # a cancelled or finished turn's late audio
        if isinstance(event, Chunk):
            if turn.pending and not turn.pending[0].abandoned:
                turn.pending[0].queue.put_nowait(event.audio)
        elif isinstance(event, FlushDone):
            if turn.pending:
                turn.pending.popleft().queue.put_nowait(_END)
        else:
            del self._contexts[event.context_id]
            _stop(turn)


def _stop(turn: _Turn) -> None:
    while turn.pending:
        sentence = turn.pending.popleft()
        sentence.stopped = True
        sentence.queue.put_nowait(_END)


def _fail(turn: _Turn, error: ProviderError) -> None:
    while turn.pending:
        turn.pending.popleft().queue.put_nowait(error)


async def _send(connection: AsyncTTSResourceConnection, message: Any) -> None:
    try:
        await connection.send(message)
    except ConnectionClosed as closed:
        raise connection_lost(closed) from closed
