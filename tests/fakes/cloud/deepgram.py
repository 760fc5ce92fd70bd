"""A local stand-in for Deepgram's live streaming API (`wss://api.deepgram.com/v1/listen`).

It speaks the documented wire format: `Authorization: Token <key>` on the upgrade, refusals as
HTTP errors with an `err_code`/`err_msg` JSON body and `dg-request-id`/`dg-error` headers;
binary PCM16 audio and `KeepAlive`/`Finalize`/`CloseStream` text frames in; `Results`,
`SpeechStarted`, `UtteranceEnd` and `Metadata` out; errors as close frames (1011 `NET-0001`
when nothing arrives for a while).

It "hears" audio by its level, in audio time, like a recognizer: while frames are loud it
sends `SpeechStarted` and interims revealing the scripted utterance word by word; after
`endpointing` ms of quiet a final (`speech_final` as scripted); after `utterance_end_ms` of
quiet an `UtteranceEnd`, which Deepgram sends even after a `speech_final`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.fakes.cloud.deepgram_recognizer import BYTES_PER_MS, Recognizer
from tests.fakes.cloud.faults import Fault, FaultPlan


@dataclass(frozen=True)
class Refusal:
    """An HTTP answer to the upgrade instead of `101 Switching Protocols`."""

    status: int
    err_code: str
    err_msg: str
    headers: dict[str, str] = field(default_factory=dict)


def unauthorized() -> Refusal:
    return Refusal(401, "INVALID_AUTH", "Invalid credentials.")


def rate_limited() -> Refusal:
    return Refusal(429, "TOO_MANY_REQUESTS", "Too many requests. Please try again later")


def unavailable(status: int = 503) -> Refusal:
    return Refusal(status, "INTERNAL_SERVER_ERROR", "The service is temporarily unavailable.")


@dataclass
class DeepgramScript:
    """What the double answers; tests change it before the client connects."""

    utterances: list[str] = field(default_factory=lambda: ["hello there", "book a table"])
    speech_final: bool = True  # False: finals carry is_final only and UtteranceEnd ends speech
    interim_every_ms: int = 100
    first_result_delay_s: float = 0.0
    malformed: list[str | bytes] = field(default_factory=list)  # sent before the first result
    refuse: Refusal | None = None
    drop_after_audio_ms: int | None = None  # then close with `drop_code` (None: TCP reset)
    drop_code: int | None = 1011
    drop_reason: str = "NET-0000"
    idle_timeout_s: float = 10.0  # NET-0001 when neither audio nor a text frame arrives


@dataclass
class LiveConnection:
    """What one client sent: the upgrade request, then audio and control messages."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    audio_bytes: int = 0
    controls: list[str] = field(default_factory=list)
    closed_by_client: bool = False
    client_close_code: int | None = None

    @property
    def audio_ms(self) -> int:
        return self.audio_bytes // BYTES_PER_MS


class DeepgramLiveDouble:
    """The live API on a free local port, run in its own thread and event loop."""

    def __init__(self, api_key: str, script: DeepgramScript | None = None) -> None:
        self.api_key = api_key
        self.script = script or DeepgramScript()
        self.connections: list[LiveConnection] = []
        self.faults: FaultPlan | None = None  # a share of utterances fail, as planned
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Server | None = None
        self.base_url = ""

    def __enter__(self) -> DeepgramLiveDouble:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(5)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://")

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
        """Poll (from the test's loop) until `condition` holds; fail after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("the Deepgram double never saw what the test waited for")
            await asyncio.sleep(0.01)

    async def _serve(self) -> Server:
        return await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            process_response=self._process_response,
        )

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        record = LiveConnection(
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={name: value for name, value in request.headers.raw_items()},
        )
        self.connections.append(record)
        request_id = str(uuid.uuid4())
        connection.request_id = request_id  # type: ignore[attr-defined]
        connection.record = record  # type: ignore[attr-defined]
        refusal = self.script.refuse
        if refusal is None and request.headers.get("Authorization") != f"Token {self.api_key}":
            refusal = unauthorized()
        if refusal is None and parts.path != "/v1/listen":
            refusal = Refusal(404, "NOT_FOUND", f"Unknown path {parts.path}")
        if refusal is None:
            return None
        body = {"err_code": refusal.err_code, "err_msg": refusal.err_msg, "request_id": request_id}
        payload = json.dumps(body).encode()
        headers = Headers(
            {
                "Content-Type": "application/json",
                "Content-Length": str(len(payload)),
                "dg-request-id": request_id,
                "dg-error": refusal.err_msg,
                **refusal.headers,
            }
        )
        return Response(refusal.status, HTTPStatus(refusal.status).phrase, headers, payload)

    def _process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        if "dg-request-id" not in response.headers:
            response.headers["dg-request-id"] = connection.request_id  # type: ignore[attr-defined]

    async def _handle(self, connection: ServerConnection) -> None:
        record: LiveConnection = connection.record  # type: ignore[attr-defined]
        script = self.script
        recognizer = Recognizer(script, record.query, connection.request_id)  # type: ignore[attr-defined]
        sent_results = False
        fault: Fault | None = None  # the fate of the utterance being heard
        hung = False  # a hung recognizer reads on and answers nothing

        async def send(messages: list[dict[str, Any]]) -> None:
            nonlocal sent_results
            if hung:
                return
            for message in messages:
                if message["type"] == "Results" and not sent_results:
                    sent_results = True
                    await asyncio.sleep(script.first_result_delay_s)
                    for raw in script.malformed:
                        await connection.send(raw)
                await connection.send(json.dumps(message))

        try:
            while True:
                try:
                    async with asyncio.timeout(script.idle_timeout_s):
                        data = await connection.recv()
                except TimeoutError:
                    await connection.close(1011, "NET-0001")
                    return
                if isinstance(data, bytes):
                    if not data:
                        await send([*recognizer.flush(), recognizer.metadata()])
                        await connection.close()
                        return
                    record.audio_bytes += len(data)
                    utterances = recognizer.utterances_heard
                    messages = recognizer.audio(data)
                    if self.faults is not None and recognizer.utterances_heard > utterances:
                        fault = self.faults.next()
                        if fault is Fault.HANG_BEFORE:
                            hung = True
                        elif fault in (Fault.RESET, Fault.SERVER_ERROR):
                            await send(messages)  # what it heard so far, then the failure
                            if fault is Fault.RESET:
                                connection.transport.abort()
                            else:
                                await connection.close(1011, "NET-0000: internal server error")
                            return
                    await send(messages)
                    if (
                        script.drop_after_audio_ms is not None
                        and record.audio_ms >= script.drop_after_audio_ms
                    ):
                        if script.drop_code is None:
                            connection.transport.abort()
                        else:
                            await connection.close(script.drop_code, script.drop_reason)
                        return
                    continue
                kind = _control_type(data)
                record.controls.append(kind)
                if kind == "Finalize":
                    hung = hung or fault is Fault.HANG_AFTER  # interims sent, no final comes
                    await send([recognizer.finalize()])
                elif kind == "CloseStream":
                    await send([*recognizer.flush(), recognizer.metadata()])
                    await connection.close()
                    return
                elif kind != "KeepAlive":
                    await connection.send(
                        json.dumps(
                            {
                                "type": "Error",
                                "variant": "SchemaError",
                                "description": "Could not parse the client message.",
                                "message": data,
                            }
                        )
                    )
        except ConnectionClosed as closed:
            record.closed_by_client = True
            record.client_close_code = closed.rcvd.code if closed.rcvd else None


def _control_type(data: str) -> str:
    try:
        message = json.loads(data)
    except json.JSONDecodeError:
        return f"<not JSON: {data[:40]!r}>"
    return str(message.get("type")) if isinstance(message, dict) else f"<{data[:40]!r}>"
