"""A language model behind any OpenAI-compatible streaming chat-completions endpoint.

Works with OpenAI, Groq's OpenAI endpoint, Ollama, vLLM and the llama.cpp server: text streams
out as it arrives; tool-call fragments are assembled and emitted once the stream ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
)

log = logging.getLogger(__name__)

BODY_EXCERPT_CHARS = 300
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)

_ADVICE_BY_STATUS = {
    400: "the endpoint rejected the request; check the model name and its tool support",
    401: "check the API key (VELOX_OPENAI_API_KEY)",
    403: "the API key may not use this model; check the key and the model",
    404: "check the base URL (VELOX_OPENAI_BASE_URL) and the model (VELOX_OPENAI_MODEL)",
    429: "rate limited or out of quota; retry later or raise the account's limits",
}


def to_wire_message(message: ChatMessage) -> dict[str, Any]:
    """One of our messages in the chat-completions shape."""
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        wire["content"] = message.content or None
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id or ""
    return wire


def to_wire_tool(tool: ToolSpec) -> dict[str, Any]:
    parameters = tool.parameters or {"type": "object", "properties": {}}
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": parameters,
        },
    }


# A whole reply (post-call analysis) may take minutes on a CPU-hosted server; its caller bounds
# it with its own deadline.
WHOLE_REPLY_TIMEOUT = httpx.Timeout(connect=5.0, read=180.0, write=10.0, pool=5.0)


def completion_text(provider: str, body: str) -> str:
    """`choices[0].message.content` of a (non-streamed) `chat.completion` body."""
    try:
        completion = json.loads(body)
        content = completion["choices"][0]["message"]["content"]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as error:
        raise ProviderError(
            provider, f"malformed chat completion {body[:BODY_EXCERPT_CHARS]!r}: {error!r}"
        ) from error
    if not isinstance(content, str):
        raise ProviderError(provider, "the chat completion has no text content")
    return content


@dataclass(slots=True)
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    """Joins the `delta.tool_calls` fragments of one stream into whole tool calls."""

    def __init__(self) -> None:
        self._parts: dict[int, _ToolCallParts] = {}
        self.skipped = 0

    def add(self, fragment: dict[str, Any]) -> None:
        index = fragment.get("index", len(self._parts))
        parts = self._parts.setdefault(int(index), _ToolCallParts())
        if fragment.get("id"):
            parts.id = str(fragment["id"])
        function = fragment.get("function") or {}
        if function.get("name"):
            parts.name += str(function["name"])
        if function.get("arguments"):
            parts.arguments.append(str(function["arguments"]))

    def complete(self) -> list[ToolCall]:
        """The calls in index order; one whose arguments are not a JSON object is skipped."""
        calls: list[ToolCall] = []
        for index in sorted(self._parts):
            parts = self._parts[index]
            raw = "".join(parts.arguments)
            try:
                arguments = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError:
                arguments = None
            if not parts.name or not isinstance(arguments, dict):
                self.skipped += 1
                log.warning("skipping malformed tool call %r (arguments %r)", parts.name, raw[:200])
                continue
            calls.append(
                ToolCall(id=parts.id or f"call_{index}", name=parts.name, arguments=arguments)
            )
        return calls


class OpenAiCompatibleLanguageModel:
    """Streams chat completions over HTTP with server-sent events; one client per event loop."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        name: str = "openai",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.name = name
        self.model = model
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Accept": "text/event-stream"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.skipped_tool_calls = 0

    def _http(self) -> httpx.AsyncClient:
        # Connections belong to the loop that opened them; keep one pool per running loop.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(timeout=self._timeout, headers=self._headers)
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def request_body(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [to_wire_message(m) for m in messages],
            "stream": True,
            "temperature": options.temperature,
        }
        if options.max_tokens is not None:
            body["max_tokens"] = options.max_tokens
        if tools:
            body["tools"] = [to_wire_tool(t) for t in tools]
        return body

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        body = self.request_body(messages, tools, options)
        assembler = ToolCallAssembler()
        finished = False
        try:
            async with self._http().stream("POST", self._url, json=body) as response:
                if response.status_code != 200:
                    raise await self._status_error(response)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, `event:` and `id:` fields
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        finished = True
                        break
                    chunk = self._decode(payload)
                    for event_text, fragments, done in self._read_chunk(chunk):
                        if event_text:
                            yield TextDelta(event_text)
                        for fragment in fragments:
                            assembler.add(fragment)
                        finished = finished or done
        except httpx.HTTPError as error:
            raise ProviderError(
                self.name,
                f"request to {self._url} failed: {error!r}; check that the endpoint is reachable",
            ) from error
        if not finished:
            raise ProviderError(
                self.name, "stream ended before the reply was complete; the endpoint hung up"
            )
        calls = assembler.complete()
        self.skipped_tool_calls += assembler.skipped
        for call in calls:
            yield call

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], options: GenerationOptions
    ) -> str:
        """One whole reply in JSON mode (`response_format` json_object, which OpenAI, Ollama,
        vLLM and llama.cpp's server all take); `schema` is described in the prompt instead."""
        body = self.request_body(messages, [], options) | {
            "stream": False,
            "response_format": {"type": "json_object"},
        }
        try:
            response = await self._http().post(
                self._url,
                json=body,
                headers={"Accept": "application/json"},
                timeout=WHOLE_REPLY_TIMEOUT,
            )
        except httpx.HTTPError as error:
            raise ProviderError(
                self.name,
                f"request to {self._url} failed: {error!r}; check that the endpoint is reachable",
            ) from error
        if response.status_code != 200:
            raise await self._status_error(response)
        return completion_text(self.name, response.text)

    async def _status_error(self, response: httpx.Response) -> ProviderError:
        body = (await response.aread()).decode("utf-8", errors="replace")
        status = response.status_code
        advice = _ADVICE_BY_STATUS.get(
            status,
            "the service failed; retry or switch the agent to another LLM provider"
            if status >= 500
            else "check the request and the endpoint's documentation",
        )
        excerpt = " ".join(body.split())[:BODY_EXCERPT_CHARS]
        return ProviderError(self.name, f"HTTP {status} from {self._url}: {excerpt} ({advice})")

    def _decode(self, payload: str) -> dict[str, Any]:
        """The JSON object of one `data:` line; anything else is a malformed stream."""
        try:
            chunk = json.loads(payload)
        except json.JSONDecodeError as error:
            raise ProviderError(
                self.name, f"malformed stream line {payload[:BODY_EXCERPT_CHARS]!r}: {error}"
            ) from error
        if not isinstance(chunk, dict):
            raise ProviderError(self.name, f"malformed stream line {payload[:200]!r}")
        if "error" in chunk:
            raise ProviderError(
                self.name, f"the endpoint reported an error mid-stream: {chunk['error']!r}"
            )
        return chunk

    def _read_chunk(self, chunk: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], bool]]:
        """Text, tool-call fragments and whether it finished, for each choice-0 delta."""
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise ProviderError(self.name, f"stream chunk without choices: {str(chunk)[:200]}")
        out: list[tuple[str, list[dict[str, Any]], bool]] = []
        for choice in choices:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content") or ""
            fragments = delta.get("tool_calls") or []
            out.append((str(text), list(fragments), choice.get("finish_reason") is not None))
        return out
