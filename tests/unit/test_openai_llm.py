"""The OpenAI-compatible LLM against a local server speaking the real streaming wire format."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
)
from app.providers.openai.llm import OpenAiCompatibleLanguageModel

pytestmark = pytest.mark.e2e

API_KEY = "sk-test-123"


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _text_stream(words: list[str]) -> list[str]:
    lines = [_chunk({"role": "assistant", "content": ""})]
    lines += [_chunk({"content": w}) for w in words]
    return [*lines, _chunk({}, "stop"), "data: [DONE]\n\n"]


def _tool_fragment(index: int, **parts: Any) -> dict[str, Any]:
    fragment: dict[str, Any] = {"index": index}
    if "id" in parts:
        fragment["id"] = parts["id"]
        fragment["type"] = "function"
    fragment["function"] = {k: v for k, v in parts.items() if k in ("name", "arguments")}
    return {"tool_calls": [fragment]}


# Two calls whose fragments interleave, arguments split mid-token, as OpenAI and vLLM send them.
TOOL_STREAM = [
    _chunk({"role": "assistant", "content": None}),
    _chunk({"content": "Transferring you now."}),
    _chunk(_tool_fragment(0, id="call_a", name="transfer_call", arguments="")),
    _chunk(_tool_fragment(0, arguments='{"phone_')),
    _chunk(_tool_fragment(1, id="call_b", name="end_call", arguments="")),
    _chunk(_tool_fragment(0, arguments='number": "+1555')),
    _chunk(_tool_fragment(1, arguments="{}")),
    _chunk(_tool_fragment(0, arguments='0100", "reason": "asked"}')),
    _chunk({}, "tool_calls"),
    "data: [DONE]\n\n",
]

BROKEN_ARGUMENTS_STREAM = [
    _chunk(_tool_fragment(0, id="call_x", name="end_call", arguments='{"reason": ')),
    _chunk(_tool_fragment(1, id="call_y", name="end_call", arguments="{}")),
    _chunk({}, "tool_calls"),
    "data: [DONE]\n\n",
]

SCENARIOS: dict[str, tuple[int, list[str]]] = {
    "text": (200, [": keep-alive\n\n", *_text_stream(["Hello", " there", "!"])]),
    "tools": (200, TOOL_STREAM),
    "broken-arguments": (200, BROKEN_ARGUMENTS_STREAM),
    "malformed": (200, [_chunk({"content": "Hi"}), 'data: {"choices": [\n\n']),
    "truncated": (200, [_chunk({"content": "Hi"})]),
    "rate-limited": (429, ['{"error": {"message": "Rate limit reached for requests"}}']),
    "unauthorized": (401, ['{"error": {"message": "Incorrect API key provided"}}']),
    "overloaded": (503, ["upstream overloaded"]),
}


@dataclass
class FakeOpenAi:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    slow_stream_disconnected: threading.Event = field(default_factory=threading.Event)


def _handler(state: FakeOpenAi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if self.path != "/v1/chat/completions":
                self._send(404, ["not found"])
            elif body["model"] == "slow":
                self._send_slowly()
            else:
                status, lines = SCENARIOS[body["model"]]
                self._send(status, lines)

        def _start(self, status: int, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _write(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _send(self, status: int, lines: list[str]) -> None:
            self._start(status, "text/event-stream" if status == 200 else "application/json")
            for line in lines:
                self._write(line)
            self.wfile.write(b"0\r\n\r\n")

        def _send_slowly(self) -> None:
            self._start(200, "text/event-stream")
            try:
                for n in range(200):
                    self._write(_chunk({"content": f"word{n} "}))
                    time.sleep(0.02)
            except (BrokenPipeError, ConnectionResetError):
                state.slow_stream_disconnected.set()
                return
            self.wfile.write(b"0\r\n\r\n")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up on a kept-alive connection is normal, not a server fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def server() -> Iterator[FakeOpenAi]:
    httpd = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = FakeOpenAi(url=f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    httpd.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _llm(server: FakeOpenAi, model: str) -> OpenAiCompatibleLanguageModel:
    return OpenAiCompatibleLanguageModel(base_url=server.url, api_key=API_KEY, model=model)


async def _collect(
    llm: OpenAiCompatibleLanguageModel, tools: list[ToolSpec] | None = None
) -> list[LlmEvent]:
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
    try:
        return [e async for e in llm.stream(messages, tools or [], GenerationOptions())]
    finally:
        await llm.aclose()


async def test_content_deltas_stream_as_text_in_order(server: FakeOpenAi) -> None:
    events = await _collect(_llm(server, "text"))

    assert events == [TextDelta("Hello"), TextDelta(" there"), TextDelta("!")]


async def test_request_uses_the_openai_wire_format(server: FakeOpenAi) -> None:
    llm = _llm(server, "text")
    earlier_call = ToolCall(id="call_1", name="lookup_order", arguments={"order": "A7"})
    messages = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Where is my order?"),
        ChatMessage("assistant", "", tool_calls=(earlier_call,)),
        ChatMessage("tool", '{"status": "shipped"}', tool_call_id="call_1"),
    ]
    tool = ToolSpec(
        "end_call", "End the call.", {"type": "object", "properties": {}, "required": []}
    )
    options = GenerationOptions(temperature=0.2, max_tokens=64)

    [_ async for _ in llm.stream(messages, [tool], options)]
    await llm.aclose()

    body = server.requests[0]
    assert server.headers[0]["Authorization"] == f"Bearer {API_KEY}"
    assert body["stream"] is True
    assert (body["temperature"], body["max_tokens"]) == (0.2, 64)
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Where is my order?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup_order", "arguments": '{"order": "A7"}'},
                }
            ],
        },
        {"role": "tool", "content": '{"status": "shipped"}', "tool_call_id": "call_1"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "end_call",
                "description": "End the call.",
                "parameters": {"type": "object", "properties": {}, "required": []},
            },
        }
    ]


async def test_tool_call_fragments_split_across_chunks_are_assembled_after_the_text(
    server: FakeOpenAi,
) -> None:
    events = await _collect(_llm(server, "tools"))

    assert events == [
        TextDelta("Transferring you now."),
        ToolCall("call_a", "transfer_call", {"phone_number": "+15550100", "reason": "asked"}),
        ToolCall("call_b", "end_call", {}),
    ]


async def test_tool_call_with_malformed_arguments_is_skipped_and_counted(
    server: FakeOpenAi,
) -> None:
    llm = _llm(server, "broken-arguments")

    events = await _collect(llm)

    assert events == [ToolCall("call_y", "end_call", {})]
    assert llm.skipped_tool_calls == 1


@pytest.mark.parametrize(
    ("model", "status", "excerpt"),
    [
        ("rate-limited", 429, "Rate limit reached"),
        ("unauthorized", 401, "Incorrect API key"),
        ("overloaded", 503, "upstream overloaded"),
    ],
)
async def test_http_error_raises_provider_error_with_status_and_body(
    server: FakeOpenAi, model: str, status: int, excerpt: str
) -> None:
    with pytest.raises(ProviderError) as raised:
        await _collect(_llm(server, model))

    assert f"HTTP {status}" in str(raised.value)
    assert excerpt in str(raised.value)
    assert raised.value.provider == "openai"


async def test_malformed_stream_line_raises_provider_error(server: FakeOpenAi) -> None:
    with pytest.raises(ProviderError, match="malformed stream line"):
        await _collect(_llm(server, "malformed"))


async def test_stream_that_ends_without_finishing_raises_provider_error(
    server: FakeOpenAi,
) -> None:
    with pytest.raises(ProviderError, match="ended before the reply was complete"):
        await _collect(_llm(server, "truncated"))


async def test_unreachable_endpoint_raises_provider_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm = OpenAiCompatibleLanguageModel(
        base_url=f"http://127.0.0.1:{port}/v1", api_key="", model="m"
    )

    with pytest.raises(ProviderError, match="check that the endpoint is reachable"):
        await _collect(llm)


async def test_closing_the_stream_early_hangs_up_on_the_server(server: FakeOpenAi) -> None:
    llm = _llm(server, "slow")
    stream = cast(
        AsyncGenerator[LlmEvent, None],
        llm.stream([ChatMessage("user", "Talk")], [], GenerationOptions()),
    )

    first = await anext(stream)
    await stream.aclose()
    await llm.aclose()

    assert first == TextDelta("word0 ")
    assert await _wait_for(server.slow_stream_disconnected, timeout_s=3.0)


async def _wait_for(event: threading.Event, timeout_s: float) -> bool:
    return await asyncio.to_thread(event.wait, timeout_s)
