"""A local double of ElevenLabs' text-to-speech WebSockets, on 127.0.0.1, in the test's loop.

Speaks the wire format of `GET /v1/text-to-speech/{voice_id}/stream-input` and
`…/multi-stream-input` as ElevenLabs documents it (AsyncAPI spec of both channels; the
multi-context guide) and as clients in the field meet it:

- query `model_id`, `output_format` (`ulaw_8000`, `alaw_8000`, `pcm_8000`…`pcm_44100`),
  `auto_mode`, `inactivity_timeout`; header `xi-api-key`;
- client messages: `{"text": " ", "voice_settings"?, "generation_config"?}` first, then
  `{"text": "… ", "flush"?}` and `{"text": ""}` to end (stream-input); with `context_id`,
  `close_context` and `close_socket` on multi-stream-input;
- server messages: `{"audio": base64, "isFinal": null, "normalizedAlignment", "alignment"}`
  (plus `"contextId"` on multi-stream-input) and `{"isFinal": true, "contextId"?}`;
- `isFinal` for a context only after `close_context` — a bare flush sends no end signal
  (bolna-ai/bolna#790, elevenlabs-docs#405) — and a close that reaches the service before
  synthesis has started ends the context with no audio at all (pipecat#4681, #5271);
- voice settings on a later context of the socket, a bad key, an exceeded quota or context
  limit: `{"message", "error", "code": 1008}` then a 1008 policy close with the message as its
  reason (pipecat#1006, #4556, livekit/agents-js#1985, elevenlabs-python#282);
- a refused upgrade with an HTTP status when scripted (as ElevenLabs answers 403 for a model
  that has no WebSocket streaming, livekit/agents#3235).

Audio is a 440 Hz tone whose length follows the text (`MS_PER_CHAR`), in the asked format.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from telephony.audio import pcm16_to_alaw, pcm16_to_mulaw
from tests.fakes.cloud.faults import Fault, FaultPlan
from tests.fakes.cloud.socket_double import RecordedConnection, SocketDouble

VALID_KEY = "test-elevenlabs-key"
MS_PER_CHAR = 20
CHUNK_MS = 100
SETTINGS_REFUSAL = (
    "voice_settings field must be provided in the first message and then either be not "
    "provided or not change."
)


def tone(encoding: str, sample_rate: int, duration_ms: int) -> bytes:
    """A 440 Hz tone in `encoding` ("pcm16", "mulaw" or "alaw")."""
    samples = np.arange(sample_rate * duration_ms // 1000) / sample_rate
    pcm = (np.sin(2 * np.pi * 440 * samples) * 8000).astype("<i2").tobytes()
    if encoding == "mulaw":
        return pcm16_to_mulaw(pcm)
    if encoding == "alaw":
        return pcm16_to_alaw(pcm)
    return pcm


def format_of(name: str) -> tuple[str, int]:
    """`ulaw_8000` → ("mulaw", 8000); `pcm_16000` → ("pcm16", 16000)."""
    kind, rate = name.split("_")[:2]
    return {"ulaw": "mulaw", "alaw": "alaw", "pcm": "pcm16"}[kind], int(rate)


@dataclass
class Behaviour:
    """What the next connections do; tests change it before they connect."""

    first_byte_delay_s: float = 0.0
    chunk_interval_s: float = 0.0
    refuse_status: int | None = None
    policy_error: tuple[str, str] | None = None
    close_code: int = 1008
    drop_after_chunks: int | None = None
    malformed_before_audio: int = 0


@dataclass(eq=False)
class _Context:
    context_id: str | None
    tail: asyncio.Task[None] | None = None
    started: bool = False
    closed: bool = False


class ElevenLabsDouble(SocketDouble):
    """`async with ElevenLabsDouble() as double:` then point the client at `double.base_url`."""

    def __init__(self) -> None:
        super().__init__()
        self.behaviour = Behaviour()
        self.faults: FaultPlan | None = None  # a share of sentences fail, as planned

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 4 or segments[:2] != ["v1", "text-to-speech"]:
            return connection.respond(404, "Not Found\n")
        if segments[3] not in ("stream-input", "multi-stream-input"):
            return connection.respond(404, "Not Found\n")
        self.connections.append(
            RecordedConnection(
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={name.lower(): value for name, value in request.headers.raw_items()},
            )
        )
        status = self.behaviour.refuse_status
        if status is None:
            return None
        body = {"detail": {"status": _ERROR_BY_STATUS.get(status, "error"), "message": "refused"}}
        response = connection.respond(status, json.dumps(body))
        response.headers["Content-Type"] = "application/json"
        return response

    async def _handle(self, socket: ServerConnection) -> None:
        record = self.connections[-1]
        multi = record.path.endswith("multi-stream-input")
        fmt = format_of(record.query.get("output_format", "pcm_16000"))
        contexts: dict[str | None, _Context] = {}
        settings_seen = False
        try:
            async for raw in socket:
                message = json.loads(raw)
                record.messages.append(message)
                if record.headers.get("xi-api-key") != VALID_KEY:
                    await self._refuse(socket, record, "invalid_api_key", "Invalid API key")
                    return
                if self.behaviour.policy_error is not None:
                    await self._refuse(socket, record, *self.behaviour.policy_error)
                    return
                if "voice_settings" in message:
                    if settings_seen:
                        await self._refuse(socket, record, "invalid_request", SETTINGS_REFUSAL)
                        return
                    settings_seen = True
                if message.get("close_socket"):
                    await asyncio.gather(*(c.tail for c in contexts.values() if c.tail))
                    await socket.close(1000)
                    return
                context_id = message.get("context_id") if multi else None
                context = contexts.setdefault(context_id, _Context(context_id))
                text = message.get("text")
                if message.get("close_context"):
                    self._close(socket, context)
                elif text == "" and not multi:
                    await asyncio.gather(*(c.tail for c in contexts.values() if c.tail))
                    await socket.send(json.dumps({"isFinal": True}))
                    await socket.close(1000)
                    return
                elif isinstance(text, str) and text.strip():
                    self._chain(context, partial(self._speak, socket, context, text, fmt))
        except ConnectionClosed:
            pass
        finally:
            record.close_code = socket.close_code
            for context in contexts.values():
                if context.tail is not None:
                    context.tail.cancel()

    async def _refuse(
        self, socket: ServerConnection, record: RecordedConnection, error: str, message: str
    ) -> None:
        code = self.behaviour.close_code if self.behaviour.policy_error else 1008
        await socket.send(json.dumps({"message": message, "error": error, "code": code}))
        await socket.close(code, message[:120])
        record.close_code = code

    def _chain(self, context: _Context, work: Callable[[], Awaitable[None]]) -> None:
        previous = context.tail

        async def after_previous() -> None:
            with contextlib.suppress(ConnectionClosed):
                if previous is not None:
                    await previous
                await work()

        context.tail = asyncio.ensure_future(after_previous())

    def _close(self, socket: ServerConnection, context: _Context) -> None:
        context.closed = True
        if not context.started and context.tail is not None and not context.tail.done():
            # The service honours a close that beats the synthesis: no audio, just isFinal.
            context.tail.cancel()
            context.tail = None
        self._chain(context, lambda: self._final(socket, context))

    async def _final(self, socket: ServerConnection, context: _Context) -> None:
        await socket.send(json.dumps({"isFinal": True, "contextId": context.context_id}))

    async def _speak(
        self, socket: ServerConnection, context: _Context, text: str, fmt: tuple[str, int]
    ) -> None:
        encoding, rate = fmt
        audio = tone(encoding, rate, len(text.strip()) * MS_PER_CHAR)
        await asyncio.sleep(self.behaviour.first_byte_delay_s)
        fault = self.faults.next() if self.faults is not None else None
        while self.behaviour.malformed_before_audio > 0:
            self.behaviour.malformed_before_audio -= 1
            await socket.send('{"audio": "not base64 at all!!"')
        if fault is Fault.SERVER_ERROR:
            # The service's own failure: an error message, then an internal-error close.
            message = "An internal server error occurred"
            await socket.send(json.dumps({"message": message, "error": "internal_error"}))
            await socket.close(1011, message)
            return
        if fault is Fault.HANG_BEFORE:
            await self._hang(socket)
            return
        chunk = len(tone(encoding, rate, CHUNK_MS))
        for start in range(0, len(audio), chunk):
            if fault is not None and start > 0:  # the sentence's first audio is out
                if fault is Fault.RESET:
                    socket.transport.abort()
                else:
                    await self._hang(socket)
                return
            drop = self.behaviour.drop_after_chunks
            if drop is not None and self.audio_messages_sent >= drop:
                socket.transport.abort()
                return
            piece = audio[start : start + chunk]
            message: dict[str, Any] = {
                "audio": base64.b64encode(piece).decode(),
                "isFinal": None,
                "normalizedAlignment": _alignment(text if start == 0 else ""),
                "alignment": _alignment(text if start == 0 else ""),
            }
            if context.context_id is not None:
                message["contextId"] = context.context_id
            await socket.send(json.dumps(message))
            context.started = True
            self.audio_messages_sent += 1
            if self.behaviour.chunk_interval_s:
                await asyncio.sleep(self.behaviour.chunk_interval_s)

    async def _hang(self, socket: ServerConnection) -> None:
        """Say nothing more for this sentence, until the connection closes (or the plan's
        hang ends)."""
        assert self.faults is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(socket.wait_closed(), self.faults.hang_s)


def _alignment(text: str) -> dict[str, list[Any]]:
    chars = list(text)
    return {
        "chars": chars,
        "charStartTimesMs": [i * MS_PER_CHAR for i in range(len(chars))],
        "charDurationsMs": [MS_PER_CHAR] * len(chars),
    }


_ERROR_BY_STATUS = {
    401: "invalid_api_key",
    403: "missing_permissions",
    429: "too_many_concurrent_requests",
}
