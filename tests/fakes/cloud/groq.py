"""A local stand-in for Groq's OpenAI-compatible `POST /openai/v1/chat/completions`.

It speaks the wire format Groq serves: `Authorization: Bearer <key>`; a streamed reply as
server-sent events over chunked HTTP/1.1, one `data: {chat.completion.chunk}` per delta (text
in `choices[0].delta.content`, tool calls in `delta.tool_calls[i]` with `index`, `id`,
`function.name` and `function.arguments`), `x_groq` with the request id on the first chunk and
the usage on the last, a `finish_reason`, then `data: [DONE]`; a request with `"stream": false`
gets one `chat.completion` object (JSON mode, `response_format: {"type": "json_object"}`, answers
400 `json_validate_failed` when the scripted text is not JSON, as Groq does); errors as
`{"error": {"message", "type", "code"}}` with 401, 429 (with `retry-after`) or 5xx.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.cloud.faults import Fault, FaultPlan

CHAT_PATH = "/openai/v1/chat/completions"


@dataclass(frozen=True)
class Refusal:
    """An error answer instead of a stream."""

    status: int
    message: str
    type: str
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
        return json.dumps({"error": error}).encode()


def unauthorized() -> Refusal:
    return Refusal(401, "Invalid API Key", "invalid_request_error", "invalid_api_key")


def rate_limited(retry_after_s: int = 2) -> Refusal:
    return Refusal(
        429,
        "Rate limit reached for model `llama-3.1-8b-instant` in organization `org_01test` "
        "service tier `on_demand` on tokens per minute (TPM): Limit 6000, Used 5800, "
        f"Requested 400. Please try again in {retry_after_s}s.",
        "tokens",
        "rate_limit_exceeded",
        headers={"retry-after": str(retry_after_s), "x-ratelimit-remaining-tokens": "200"},
    )


def server_error(status: int = 503) -> Refusal:
    if status == 503:
        return Refusal(503, "Service Unavailable", "internal_server_error")
    return Refusal(status, "Internal Server Error", "internal_server_error")


@dataclass(frozen=True)
class ScriptedToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model writes it
    pieces: int = 1  # Groq sends a call whole; more pieces split its arguments across chunks


@dataclass
class GroqScript:
    """What the double answers; tests change it before the request."""

    text: list[str] = field(default_factory=lambda: ["Hello", " there", "!"])
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)
    first_byte_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    refuse: Refusal | None = None
    malformed_after: int | None = None  # a chunk that is not JSON after this many deltas
    drop_after: int | None = None  # hang up (no [DONE], no final chunk) after this many deltas
    finish: bool = True  # False: end the body cleanly but without a finish_reason


def usage(script: GroqScript) -> dict[str, float | int]:
    """What Groq reports a reply cost (one token per scripted piece)."""
    return {
        "queue_time": 0.01,
        "prompt_tokens": 24,
        "prompt_time": 0.002,
        "completion_tokens": len(script.text),
        "completion_time": 0.01,
        "total_tokens": 24 + len(script.text),
        "total_time": 0.012,
    }


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class GroqChatDouble:
    """The chat completions endpoint on a free local port, served from a thread."""

    def __init__(self, api_key: str, script: GroqScript | None = None) -> None:
        self.api_key = api_key
        self.script = script or GroqScript()
        # Scripts for the requests after the next one, in order (the last one stays).
        self.then: list[GroqScript] = []
        self.requests: list[RecordedRequest] = []
        self.client_hung_up = threading.Event()
        self.faults: FaultPlan | None = None  # a share of streamed requests fail, as planned
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> GroqChatDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.faults is not None:
            self.faults.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def chunks(self, script: GroqScript | None = None) -> list[str]:
        """The `data:` payloads of the scripted reply (the double's own unless given), in
        order, as Groq would send them."""
        script = script or self.script
        request_id = "req_01test"
        created = int(time.time())
        model = self.requests[-1].body.get("model", "") if self.requests else ""

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            body = {
                "id": "chatcmpl-01test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_01test",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
                **extra,
            }
            return json.dumps(body)

        out = [chunk({"role": "assistant", "content": ""}, x_groq={"id": request_id})]
        out += [chunk({"content": piece}) for piece in script.text]
        for index, call in enumerate(script.tool_calls):
            step = -(-len(call.arguments) // call.pieces) if call.arguments else 1
            parts = [call.arguments[i : i + step] for i in range(0, len(call.arguments), step)]
            for n, part in enumerate(parts or [""]):
                fragment: dict[str, Any] = {"index": index, "function": {"arguments": part}}
                if n == 0:
                    fragment.update(id=call.id, type="function")
                    fragment["function"]["name"] = call.name
                out.append(chunk({"tool_calls": [fragment]}))
        if script.finish:
            reason = "tool_calls" if script.tool_calls else "stop"
            out.append(chunk({}, reason, x_groq={"id": request_id, "usage": usage(script)}))
        return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (barge-in) is normal, not a server fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(double: GroqChatDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            double.requests.append(RecordedRequest(self.path, dict(self.headers), body))
            script = double.script
            if double.then:
                double.script = double.then.pop(0)
            if self.headers.get("Authorization") != f"Bearer {double.api_key}":
                self._refuse(unauthorized())
            elif self.path != CHAT_PATH:
                self._refuse(
                    Refusal(
                        404,
                        f"Unknown request URL: POST {self.path}. Please check the URL for typos.",
                        "invalid_request_error",
                        "unknown_url",
                    )
                )
            elif script.refuse is not None:
                self._refuse(script.refuse)
            elif not body.get("stream", False):
                self._complete(script, body)
            else:
                fault = double.faults.next() if double.faults is not None else None
                if fault is Fault.SERVER_ERROR:
                    self._refuse(server_error(503))
                elif fault is Fault.HANG_BEFORE:
                    self._hang()
                else:
                    self._stream(script, fault)

        def _hang(self) -> None:
            """Hold the request unanswered (until the client gives up or the double stops)."""
            assert double.faults is not None
            double.faults.released.wait(double.faults.hang_s)
            self.close_connection = True

        def _refuse(self, refusal: Refusal) -> None:
            payload = refusal.body()
            self.send_response(refusal.status, HTTPStatus(refusal.status).phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in refusal.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _complete(self, script: GroqScript, body: dict[str, Any]) -> None:
            """A whole `chat.completion` (Groq's JSON mode is not streamed)."""
            time.sleep(script.first_byte_delay_s)
            text = "".join(script.text)
            if (body.get("response_format") or {}).get("type") == "json_object":
                try:
                    json.loads(text)
                except json.JSONDecodeError:
                    # What Groq answers when the model's output is not valid JSON.
                    self._refuse(
                        Refusal(
                            400,
                            "Failed to generate JSON. Please adjust your prompt. "
                            "See 'failed_generation' for more details.",
                            "invalid_request_error",
                            "json_validate_failed",
                        )
                    )
                    return
            completion = {
                "id": "chatcmpl-01test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "system_fingerprint": "fp_01test",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage(script),
                "x_groq": {"id": "req_01test"},
            }
            payload = json.dumps(completion).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-request-id", "req_01test")
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, script: GroqScript, fault: Fault | None = None) -> None:
            time.sleep(script.first_byte_delay_s)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("x-request-id", "req_01test")
            self.end_headers()
            try:
                for n, data in enumerate(double.chunks(script)):
                    deltas_sent = n  # the first chunk only opens the assistant message
                    if (
                        script.malformed_after is not None
                        and deltas_sent == script.malformed_after + 1
                    ):
                        self._event('{"choices": [{"index": 0, "delta": {"content": "lost')
                    if script.drop_after is not None and deltas_sent == script.drop_after + 1:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self._event(data)
                    if fault is not None and deltas_sent == 1:  # the first words are out
                        self._fail_mid_stream(fault)
                        return
                    time.sleep(script.chunk_delay_s)
                self._event("[DONE]")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                double.client_hung_up.set()
                self.close_connection = True

        def _fail_mid_stream(self, fault: Fault) -> None:
            if fault is Fault.HANG_AFTER:
                self._hang()
                return
            # A reset: RST instead of FIN (SO_LINGER 0), the stream cut without its end.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def _event(self, data: str) -> None:
            payload = f"data: {data}\n\n".encode()
            self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()

    return Handler
