"""A local double of Cartesia's TTS WebSocket (`/tts/websocket`), on 127.0.0.1, in the test's loop.

Speaks the wire format Cartesia documents (API reference "Text to Speech (WebSocket)", the
contexts, continuations and "Context Flushing and Flush IDs" guides, "API Errors") and that the
`cartesia` 4.2.0 SDK sends (`cartesia/lib/_tts.py`, `types/websocket_response.py`):

- auth by `Authorization: Bearer`, `X-API-Key` or `?api_key=`; version by `Cartesia-Version` or
  `?cartesia_version=`; a bad key is refused on the upgrade with HTTP 401 (pipecat-ai/
  rtvi-infra-examples#4), as is a scripted 429 or 5xx (livekit/agents#2010);
- requests `{"model_id", "transcript", "voice": {"mode": "id", "id"}, "output_format":
  {"container": "raw", "encoding", "sample_rate"}, "context_id", "continue", "flush"?,
  "language"?}`; inputs of one context are joined verbatim; `{"context_id", "cancel": true}`;
- responses `{"type": "chunk", "data", "done": false, "status_code": 206, "step_time",
  "context_id", "flush_id"}`; after a flush `{"type": "flush_done", "flush_done": true,
  "flush_id"}` once the audio of the inputs before it has been sent; after `continue: false`
  `{"type": "done", "done": true}`; failures `{"type": "error", "done": true, "status_code",
  "error_code", "title", "message", "request_id", "context_id"}`.

Audio is a 440 Hz tone whose length follows the transcript (`MS_PER_CHAR`), in the asked format.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.fakes.cloud.elevenlabs import tone
from tests.fakes.cloud.socket_double import RecordedConnection, SocketDouble

VALID_KEY = "test-cartesia-key"
MS_PER_CHAR = 20
CHUNK_MS = 100
ENCODINGS = {"pcm_s16le": "pcm16", "pcm_mulaw": "mulaw", "pcm_alaw": "alaw"}
REQUIRED = ("model_id", "transcript", "voice", "output_format", "context_id")


@dataclass
class Behaviour:
    """What the next connections do; tests change it before they act."""

    first_byte_delay_s: float = 0.0
    chunk_interval_s: float = 0.0
    refuse_status: int | None = None
    context_error: tuple[int, str, str] | None = None
    drop_after_chunks: int | None = None
    malformed_before_audio: int = 0


@dataclass(eq=False)
class _Context:
    context_id: str
    tail: asyncio.Task[None] | None = None
    flushes: int = 0
    finished: bool = False


class CartesiaDouble(SocketDouble):
    """`async with CartesiaDouble() as double:` then point the SDK at `double.base_url`."""

    def __init__(self) -> None:
        super().__init__()
        self.behaviour = Behaviour()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path != "/tts/websocket":
            return _error_response(connection, 404, "not_found", "Not found")
        query = dict(parse_qsl(parts.query))
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        self.connections.append(RecordedConnection(parts.path, query, headers))
        key = query.get("api_key") or headers.get("x-api-key") or ""
        bearer = headers.get("authorization", "")
        if bearer.startswith("Bearer "):
            key = bearer.removeprefix("Bearer ")
        if key != VALID_KEY:
            return _error_response(connection, 401, "unauthorized", "Invalid API key")
        if not (headers.get("cartesia-version") or query.get("cartesia_version")):
            return _error_response(connection, 400, "missing_version", "Cartesia-Version needed")
        if self.behaviour.refuse_status is not None:
            status = self.behaviour.refuse_status
            code = "concurrency_limited" if status == 429 else "internal_error"
            return _error_response(connection, status, code, "Refused")
        return None

    async def _handle(self, socket: ServerConnection) -> None:
        record = self.connections[-1]
        contexts: dict[str, _Context] = {}
        try:
            async for raw in socket:
                message = json.loads(raw)
                record.messages.append(message)
                context_id = message.get("context_id")
                if message.get("cancel"):
                    context = contexts.pop(context_id, None)
                    if context is not None and context.tail is not None:
                        context.tail.cancel()
                    continue
                missing = [name for name in REQUIRED if name not in message]
                if missing:
                    await _send_error(socket, context_id, 400, "invalid_request", str(missing))
                    continue
                context = contexts.setdefault(context_id, _Context(context_id))
                if context.finished:
                    await _send_error(socket, context_id, 400, "context_closed", "Context done")
                    continue
                if self.behaviour.context_error is not None:
                    status, code, text = self.behaviour.context_error
                    await _send_error(socket, context_id, status, code, text)
                    contexts.pop(context_id, None)
                    continue
                self._take(socket, context, message)
        except ConnectionClosed:
            pass
        finally:
            for context in contexts.values():
                if context.tail is not None:
                    context.tail.cancel()

    def _take(self, socket: ServerConnection, context: _Context, message: dict[str, Any]) -> None:
        output = message["output_format"]
        fmt = (ENCODINGS[output["encoding"]], int(output["sample_rate"]))
        transcript = message["transcript"]
        if transcript:
            speech_id = context.flushes + 1
            self._chain(context, partial(self._speak, socket, context, transcript, fmt, speech_id))
        if message.get("flush"):
            context.flushes += 1
            flushed = {"type": "flush_done", "done": False, "flush_done": True}
            self._chain(
                context,
                partial(_send, socket, flushed, context.context_id, flush_id=context.flushes),
            )
        if not message.get("continue", False):
            context.finished = True
            self._chain(
                context, lambda: _send(socket, {"type": "done", "done": True}, context.context_id)
            )

    def _chain(self, context: _Context, work: Callable[[], Awaitable[None]]) -> None:
        previous = context.tail

        async def after_previous() -> None:
            with contextlib.suppress(ConnectionClosed):
                if previous is not None:
                    await previous
                await work()

        context.tail = asyncio.ensure_future(after_previous())

    async def _speak(
        self,
        socket: ServerConnection,
        context: _Context,
        transcript: str,
        fmt: tuple[str, int],
        flush_id: int,
    ) -> None:
        encoding, rate = fmt
        audio = tone(encoding, rate, len(transcript.strip()) * MS_PER_CHAR)
        await asyncio.sleep(self.behaviour.first_byte_delay_s)
        while self.behaviour.malformed_before_audio > 0:
            self.behaviour.malformed_before_audio -= 1
            await socket.send('{"type": "chunk", "data": ')
        chunk = len(tone(encoding, rate, CHUNK_MS))
        for start in range(0, len(audio), chunk):
            drop = self.behaviour.drop_after_chunks
            if drop is not None and self.audio_messages_sent >= drop:
                socket.transport.abort()
                return
            data = base64.b64encode(audio[start : start + chunk]).decode()
            message = {"type": "chunk", "data": data, "done": False, "step_time": 12.5}
            await _send(socket, message, context.context_id, flush_id=flush_id)
            self.audio_messages_sent += 1
            if self.behaviour.chunk_interval_s:
                await asyncio.sleep(self.behaviour.chunk_interval_s)


async def _send(
    socket: ServerConnection,
    message: dict[str, Any],
    context_id: str,
    *,
    flush_id: int | None = None,
) -> None:
    full = {**message, "status_code": 206, "context_id": context_id}
    if flush_id is not None:
        full["flush_id"] = flush_id
    await socket.send(json.dumps(full))


async def _send_error(
    socket: ServerConnection, context_id: str | None, status: int, code: str, text: str
) -> None:
    error = {
        "type": "error",
        "done": True,
        "status_code": status,
        "error_code": code,
        "title": code.replace("_", " ").capitalize(),
        "message": text,
        "request_id": str(uuid.uuid4()),
    }
    if context_id is not None:
        error["context_id"] = context_id
    await socket.send(json.dumps(error))


def _error_response(connection: ServerConnection, status: int, code: str, text: str) -> Response:
    body = {"error_code": code, "title": code, "message": text, "request_id": str(uuid.uuid4())}
    response = connection.respond(status, json.dumps(body))
    response.headers["Content-Type"] = "application/json"
    return response
