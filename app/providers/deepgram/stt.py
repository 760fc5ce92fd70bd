"""Speech to text with Deepgram's live streaming API (Nova) over its documented WebSocket.

One socket per call, opened by `open_stream` when the call starts (so the caller's first words
pay no handshake) and closed with `CloseStream` when it ends. Audio goes up as binary PCM16
16 kHz frames; interim and final `Results`, `UtteranceEnd` and `SpeechStarted` come down.

Why not `deepgram-sdk` (7.16): its async live client runs on `websockets.legacy` (deprecated
since websockets 14, warned about on import), replaces Deepgram's handshake refusal (the JSON
`err_code`/`err_msg` body and the `dg-error` header) with a generic text and attaches the
*request* headers, API key included, to the exception, and drops messages it cannot parse
with a generic warning and no hook to count them. The protocol is small and documented, so
this module speaks it with `websockets`; the tests check the wire double against the SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from app.providers.base import ProviderError, Transcript
from app.providers.deepgram.wire import (
    EXCERPT_CHARS,
    EndOfSpeech,
    MalformedMessageError,
    ServerError,
    close_description,
    control_message,
    handshake_refusal,
    listen_url,
    parse_server_message,
    plain_headers,
)

log = logging.getLogger(__name__)


class _RedactAuthorization(logging.Filter):
    """websockets logs handshake headers at DEBUG: the API key must never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).lower() == "authorization":
            record.args = (args[0], "<redacted>")
        return True


_socket_log = logging.getLogger(f"{__name__}.socket")
_socket_log.addFilter(_RedactAuthorization())

# Deepgram closes a socket that receives nothing for about 10 s (NET-0001); its docs advise a
# KeepAlive every 3-5 s of silence, e.g. while the agent speaks and no audio is forwarded.
KEEP_ALIVE_AFTER_S = 4.0
CONNECT_TIMEOUT_S = 5.0
# After `CloseStream` Deepgram flushes its last results and closes; wait this long for them.
CLOSE_GRACE_S = 1.0


class DeepgramSttStream:
    """One call's live socket: audio up, transcripts down, KeepAlive while no audio flows."""

    def __init__(
        self,
        name: str,
        socket: ClientConnection,
        *,
        keep_alive_after_s: float,
        close_grace_s: float,
    ) -> None:
        self._name = name
        self._socket = socket
        self._keep_alive_after_s = keep_alive_after_s
        self._close_grace_s = close_grace_s
        self._end_of_speech = EndOfSpeech()
        self._queue: asyncio.Queue[Transcript | ProviderError | None] = asyncio.Queue()
        self._last_sent = time.monotonic()
        self._closing = False
        headers = plain_headers(socket.response.headers) if socket.response else {}
        self.request_id = headers.get("dg-request-id")
        self.malformed_messages = 0
        self._reader = asyncio.create_task(self._read(), name="deepgram-read")
        self._keeper = asyncio.create_task(self._keep_alive(), name="deepgram-keep-alive")

    async def push_audio(self, frame: bytes) -> None:
        # An empty binary frame means "end of audio" to Deepgram and closes the stream.
        if frame and not self._closing:
            await self._send(frame)

    async def finalize(self) -> None:
        if not self._closing:
            await self._send(control_message("Finalize"))

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while (item := await self._queue.get()) is not None:
            if isinstance(item, ProviderError):
                raise item
            yield item

    async def aclose(self) -> None:
        """Send `CloseStream`, let Deepgram flush its last results briefly, then close."""
        if self._closing:
            return
        self._closing = True
        self._keeper.cancel()
        await self._send(control_message("CloseStream"))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._close_grace_s):
                await asyncio.shield(self._reader)
        await self._socket.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, self._keeper, return_exceptions=True)
        self._queue.put_nowait(None)

    async def _send(self, data: str | bytes) -> bool:
        try:
            await self._socket.send(data)
        except ConnectionClosed:
            return False  # the reader reports the close, with its code, via `transcripts()`
        self._last_sent = time.monotonic()
        return True

    async def _keep_alive(self) -> None:
        while True:
            idle_left = self._last_sent + self._keep_alive_after_s - time.monotonic()
            if idle_left > 0:
                await asyncio.sleep(idle_left)
            elif not await self._send(control_message("KeepAlive")):
                return

    async def _read(self) -> None:
        try:
            async for data in self._socket:
                self._on_message(data)
        except ConnectionClosed:
            pass  # described below from the socket's close code, as a normal close is
        if self._closing:
            self._queue.put_nowait(None)
            return
        self._keeper.cancel()
        code, reason = self._socket.close_code, self._socket.close_reason or ""
        log.warning("%s: live stream closed: code %s reason %r", self._name, code, reason)
        self._queue.put_nowait(ProviderError(self._name, close_description(code, reason)))

    def _on_message(self, data: str | bytes) -> None:
        try:
            message = parse_server_message(data)
        except (MalformedMessageError, RecursionError) as error:  # recursion: absurd nesting
            self.malformed_messages += 1
            excerpt = data[:EXCERPT_CHARS] if isinstance(data, str) else "<binary>"
            log.warning("%s: skipping malformed message (%s): %r", self._name, error, excerpt)
            return
        if isinstance(message, ServerError):
            log.warning("%s: the service reported an error: %s", self._name, message.description)
        transcript = self._end_of_speech.transcript(message)
        if transcript is not None:
            self._queue.put_nowait(transcript)


class DeepgramSpeechToText:
    """Deepgram Nova live transcription: interims while the caller speaks, finals on pauses."""

    name = "deepgram"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.deepgram.com",
        model: str = "nova-3",
        endpointing_ms: int = 300,
        utterance_end_ms: int = 1000,
        keep_alive_after_s: float = KEEP_ALIVE_AFTER_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        close_grace_s: float = CLOSE_GRACE_S,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url
        self.model = model
        self.endpointing_ms = endpointing_ms
        # Deepgram refuses values below 1000 ms: its gap detection works at that resolution.
        self.utterance_end_ms = max(utterance_end_ms, 1000)
        self._keep_alive_after_s = keep_alive_after_s
        self._connect_timeout_s = connect_timeout_s
        self._close_grace_s = close_grace_s

    def url(self, language: str) -> str:
        return listen_url(
            self.base_url,
            model=self.model,
            language=language,
            endpointing_ms=self.endpointing_ms,
            utterance_end_ms=self.utterance_end_ms,
        )

    async def open_stream(self, language: str) -> DeepgramSttStream:
        """Connect now (the call's pre-warm); refusals become `ProviderError` with advice."""
        url = self.url(language)
        try:
            socket = await connect(
                url,
                additional_headers={"Authorization": f"Token {self._api_key}"},
                open_timeout=self._connect_timeout_s,
                close_timeout=self._close_grace_s,
                max_size=2**20,
                logger=_socket_log,
            )
        except InvalidStatus as error:
            response = error.response
            raise ProviderError(
                self.name,
                handshake_refusal(
                    response.status_code, plain_headers(response.headers), bytes(response.body)
                ),
                status=response.status_code,
            ) from error
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:
            raise ProviderError(
                self.name,
                f"could not open the live stream at {self.base_url}: {error!r}; check the base "
                "URL and that Deepgram is reachable, or choose another speech-to-text provider",
            ) from error
        return DeepgramSttStream(
            self.name,
            socket,
            keep_alive_after_s=self._keep_alive_after_s,
            close_grace_s=self._close_grace_s,
        )
