"""A language model on Groq (Llama 3.1 8B instant by default) through the official `groq` SDK.

Groq serves the OpenAI chat-completions wire format, so the request shape and the assembly of
streamed tool-call fragments are shared with the OpenAI-compatible provider. The SDK's own
retries are off: the engine's resilience layer decides whether to retry or fall back, and a
hidden retry would only spend the caller's patience.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, cast

import groq
import httpx
from groq import AsyncGroq, omit
from groq._streaming import ServerSentEvent, SSEDecoder

from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolSpec,
)
from app.providers.openai.llm import (
    WHOLE_REPLY_TIMEOUT,
    ToolCallAssembler,
    to_wire_message,
    to_wire_tool,
)

if TYPE_CHECKING:
    from groq.types.chat import (
        ChatCompletionChunk,
        ChatCompletionMessageParam,
        ChatCompletionToolParam,
    )

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
EXCERPT_CHARS = 300

_ADVICE_BY_STATUS = {
    400: "Groq rejected the request; check the model's tool support and the context length",
    401: "Groq rejected the API key; check the organization's Groq API key",
    403: "the Groq API key may not use this model; check the key and the model",
    404: "check the Groq model name and base URL",
    413: "the conversation is too long for the model; shorten the prompt or the history",
    429: "rate limited or out of quota; retry after the delay Groq gave or raise the limits",
    498: "Groq's flex tier is at capacity; retry later or use the on-demand tier",
}


class _SkippingDecoder(SSEDecoder):
    """Server-sent events whose data is not a JSON object are counted and skipped, so one
    garbled chunk costs a few words instead of the whole reply."""

    def __init__(self, on_malformed: Callable[[str], None]) -> None:
        super().__init__()
        self._on_malformed = on_malformed

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        async for event in super().aiter_bytes(iterator):
            if event.data.startswith("[DONE]") or _is_json_object(event.data):
                yield event
            else:
                self._on_malformed(event.data)


def _is_json_object(data: str) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except json.JSONDecodeError:
        return False


class _GroqClient(AsyncGroq):
    # `_make_sse_decoder` is the SDK's hook for its stream decoder; without it the SDK's stream
    # ends at the first chunk that is not JSON (that case still becomes a `ProviderError`).
    def __init__(self, *, on_malformed: Callable[[str], None], **options: Any) -> None:
        super().__init__(**options)
        self._on_malformed = on_malformed

    def _make_sse_decoder(self) -> SSEDecoder:
        return _SkippingDecoder(self._on_malformed)


class GroqLanguageModel:
    """Streams Groq chat completions with tools; one HTTP connection pool per event loop."""

    name = "groq"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.groq.com",
        model: str = "llama-3.1-8b-instant",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url
        self.model = model
        self._timeout = timeout
        self._client: _GroqClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.skipped_tool_calls = 0
        self.skipped_chunks = 0

    def _groq(self) -> _GroqClient:
        # An HTTP connection belongs to the loop that opened it.
        loop = asyncio.get_running_loop()
        if self._client is not None and self._client_loop is loop:
            return self._client
        self._client = _GroqClient(
            api_key=self._api_key,
            base_url=self.base_url,
            max_retries=0,
            timeout=self._timeout,
            on_malformed=self._skip_chunk,
        )
        self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _skip_chunk(self, data: str) -> None:
        self.skipped_chunks += 1
        log.warning("%s: skipping malformed stream chunk %r", self.name, data[:EXCERPT_CHARS])

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        """Text as it arrives, then the assembled tool calls; closing it hangs up at once."""
        wire_messages = [to_wire_message(m) for m in messages]
        wire_tools = [to_wire_tool(t) for t in tools]
        try:
            chunks = await self._groq().chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", wire_messages),
                tools=cast("list[ChatCompletionToolParam]", wire_tools) if tools else omit,
                temperature=options.temperature,
                max_tokens=options.max_tokens if options.max_tokens is not None else omit,
                stream=True,
            )
        except groq.APIStatusError as error:
            raise self._status_error(error) from error
        except groq.APIConnectionError as error:
            raise ProviderError(
                self.name,
                f"could not reach {self.base_url}: {error.__cause__ or error!r}; check the base "
                "URL and that Groq is reachable, or switch the agent to another LLM provider",
            ) from error
        assembler = ToolCallAssembler()
        finished = False
        try:
            async for chunk in chunks:
                text, done = self._read(chunk, assembler)
                if text:
                    yield TextDelta(text)
                finished = finished or done
        except groq.APIError as error:
            raise ProviderError(
                self.name, f"Groq reported an error mid-reply: {error.message}"
            ) from error
        except httpx.HTTPError as error:
            raise ProviderError(
                self.name, f"the connection dropped mid-reply: {error!r}; the reply is incomplete"
            ) from error
        except json.JSONDecodeError as error:
            raise ProviderError(self.name, f"malformed stream chunk: {error}") from error
        finally:
            await chunks.close()  # barge-in closes this generator: hang up now, not at GC
        if not finished:
            raise ProviderError(
                self.name, "the stream ended before the reply was complete; Groq hung up"
            )
        calls = assembler.complete()
        self.skipped_tool_calls += assembler.skipped
        for call in calls:
            yield call

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], options: GenerationOptions
    ) -> str:
        """One whole reply in Groq's JSON mode (not streamed: Groq's JSON mode does not stream);
        `schema` is described in the prompt instead."""
        try:
            completion = await self._groq().chat.completions.create(
                model=self.model,
                messages=cast(
                    "list[ChatCompletionMessageParam]", [to_wire_message(m) for m in messages]
                ),
                temperature=options.temperature,
                max_tokens=options.max_tokens if options.max_tokens is not None else omit,
                response_format={"type": "json_object"},
                stream=False,
                timeout=WHOLE_REPLY_TIMEOUT,
            )
        except groq.APIStatusError as error:
            raise self._status_error(error) from error
        except groq.APIError as error:
            raise ProviderError(
                self.name, f"could not get a reply from {self.base_url}: {error!r}"
            ) from error
        content = completion.choices[0].message.content if completion.choices else None
        if not content:
            raise ProviderError(self.name, "Groq's reply has no text content")
        return content

    def _read(self, chunk: ChatCompletionChunk, assembler: ToolCallAssembler) -> tuple[str, bool]:
        """The text of choice 0 and whether it finished; tool-call fragments go to `assembler`."""
        text: list[str] = []
        done = False
        try:
            for choice in chunk.choices:
                if choice.index != 0:
                    continue
                text.append(choice.delta.content or "")
                for fragment in choice.delta.tool_calls or []:
                    assembler.add(fragment.model_dump())
                done = done or choice.finish_reason is not None
        except (AttributeError, TypeError) as error:
            self._skip_chunk(f"{chunk!r} ({error})")
        return "".join(text), done

    def _status_error(self, error: groq.APIStatusError) -> ProviderError:
        status = error.status_code
        body = error.body
        detail = body.get("message") if isinstance(body, dict) else None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            detail = body["error"].get("message")
        detail = " ".join(str(detail or body or error.message).split())[:EXCERPT_CHARS]
        advice = _ADVICE_BY_STATUS.get(
            status,
            "Groq failed; retry or switch the agent to another LLM provider"
            if status >= 500
            else "check the request against Groq's documentation",
        )
        retry_after = error.response.headers.get("retry-after")
        if status == 429 and retry_after:
            advice += f"; Groq asks to wait {retry_after} s"
        return ProviderError(self.name, f"HTTP {status}: {detail} ({advice})", status=status)
