"""Offline language models on llama.cpp: SmolLM2-135M-Instruct (the default) and
Qwen2.5-Coder-0.5B-Instruct (which also calls tools), from the GGUF files of `model_files.py`,
each checked against its pinned SHA-256 before it is loaded.

One model per process, generating on one thread (llama.cpp is not re-entrant): concurrent
calls' replies take turns on it a token at a time, each on a context of its own, a reply still
writing its first piece first (`scheduler.py`); tokens travel back to the event loop as they are
sampled, and closing the stream stops its generation within one token.

Tools: Qwen is given them through its chat template (`prompt.py`) and writes calls as
`<tool_call>{json}</tool_call>`; `tool_calls.py` reads them out of the stream, the words before a
call still spoken as they come, and `tool_turn.py` asks again without tools when a call cannot
be read (counted in `velox_llm_malformed_tool_calls`), so the model answers in words; it never
ends the call.
SmolLM2 ignores tools: a 135M model cannot call functions reliably, and guessing an `end_call`
from its text would hang up on callers.

Prompt prefixes are cached (`prefix_cache.py`): the key-value state of each agent's system
prompt (with its tools), and of each call's conversation after every reply, is saved (LRU,
bounded in bytes) and restored when a turn starts, so interleaved calls do not re-read each
other's prompts from scratch.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp import Llama
from llama_cpp.llama_grammar import LlamaGrammar

from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolSpec,
)
from app.providers.llama.model_files import ModelFile, verified
from app.providers.llama.prefix_cache import (
    PrefixCache,
    common_prefix_length,
    restore_longest_prefix,
    save_prefix,
)
from app.providers.llama.prompt import ChatPrompt
from app.providers.llama.scheduler import GenerationScheduler, Job
from app.providers.llama.tool_turn import tool_turn
from app.providers.local_cores import LOCAL_CORES, ReplyPacer

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 120
PREFIX_CACHE_BYTES = 256 * 1024 * 1024
# Generations at once, each on a context of its own (the weights are loaded once); more wait.
MAX_CONTEXTS = 8


class _End:
    """Marks the end of a generation on the queue."""


_END = _End()


@lru_cache(maxsize=32)
def _grammar(schema_json: str) -> LlamaGrammar:
    try:
        return LlamaGrammar.from_json_schema(schema_json, verbose=False)
    except (ValueError, RuntimeError) as error:
        raise ProviderError("llama", f"no grammar for the JSON schema: {error}") from error


class LlamaLanguageModel:
    """A GGUF model on llama.cpp: one shared model whose generations take turns a token at a
    time, cancellable per token; tools through the chat template when `calls_tools`."""

    def __init__(
        self,
        model: ModelFile,
        model_path: Path,
        *,
        calls_tools: bool,
        n_ctx: int = 2048,
        n_threads: int = 2,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        prefix_cache_bytes: int = PREFIX_CACHE_BYTES,
        max_contexts: int = MAX_CONTEXTS,
    ) -> None:
        self.name = model.provider
        path = verified(model, model_path)
        self._model_file, self._path = model, path
        self._verified_identity = _identity(path)
        started = time.perf_counter()
        try:
            self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        except (OSError, ValueError, RuntimeError) as error:
            raise ProviderError(
                self.name, f"could not load {path}: {error!r}; {model.install_hint}"
            ) from error
        self.load_seconds = time.perf_counter() - started
        self.default_max_tokens = default_max_tokens
        self._n_ctx = n_ctx
        self._cache = PrefixCache(prefix_cache_bytes) if prefix_cache_bytes > 0 else None
        self._prompt = ChatPrompt(
            self.name,
            self._llm.metadata.get("tokenizer.chat_template"),
            eos=self._token_text(self._llm.token_eos()),
            bos=self._token_text(self._llm.token_bos()),
            tokenize=lambda text: self._llm.tokenize(text.encode(), add_bos=False, special=True),
            calls_tools=calls_tools,
        )
        self._scheduler: GenerationScheduler[Llama] = GenerationScheduler(
            self._llm,
            partial(self._open_context, n_threads),
            share_cores=self._share_cores,
            max_contexts=max_contexts,
            cores=LOCAL_CORES,
            name=self.name,
        )
        self._n_threads = n_threads
        self._threads_set: dict[int, int] = {}  # each context's threads, by its id
        self.generations_cancelled = 0
        self.last_prompt_tokens_evaluated = 0
        log.info("llama model %s loaded in %.2f s", path.name, self.load_seconds)

    def _open_context(self, n_threads: int) -> Llama:
        """Another context, for one more generation at once: the file is mapped again, so its
        weights' pages are the first context's (about 65 MB more for SmolLM2's context and
        buffers, 100 MB for Qwen's, and 0.3-0.5 s). A file that is no longer the one verified
        at start-up (another inode, size or modification time) is verified again."""
        if _identity(self._path) != self._verified_identity:
            verified(self._model_file, self._path)
            self._verified_identity = _identity(self._path)
        return Llama(
            model_path=str(self._path), n_ctx=self._n_ctx, n_threads=n_threads, verbose=False
        )

    def _share_cores(self, llm: Llama, sharing: bool) -> None:
        """All the model's threads for the next step, or half of them beside a voice."""
        threads = max(1, self._n_threads // 2) if sharing else self._n_threads
        if self._threads_set.get(id(llm), self._n_threads) != threads:
            llama_cpp.llama_set_n_threads(llm.ctx, threads, threads)
            self._threads_set[id(llm)] = threads

    @property
    def scheduler(self) -> GenerationScheduler[Llama]:
        return self._scheduler

    @property
    def calls_tools(self) -> bool:
        return self._prompt.calls_tools

    @property
    def checks_hang_ups(self) -> bool:
        """A model this small that calls tools calls `end_call` on some requests to book or sign
        up (3 of 30 evaluation questions, Qwen2.5-Coder-0.5B): its hang-ups are checked."""
        return self.calls_tools

    @property
    def prefix_cache(self) -> PrefixCache | None:
        return self._cache

    def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        """The reply as it is sampled, then its tool calls (none from a model that ignores
        tools)."""
        if self.calls_tools and tools:
            return self._stream_with_tools(messages, tools, options)
        return self._stream_text(messages, options)

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], options: GenerationOptions
    ) -> str:
        """One whole reply sampled under a grammar made from `schema`, so the model can only
        write a JSON object of that shape (its content is still a small model's)."""
        grammar = _grammar(json.dumps(schema))
        return "".join([text async for text in self._texts(messages, [], options, grammar)])

    async def _stream_text(
        self, messages: list[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        async with contextlib.aclosing(self._texts(messages, [], options)) as texts:
            async for text in texts:
                yield TextDelta(text)

    async def prefill(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> None:
        """Evaluate and cache the system prompt (with its tools) before a turn needs it: a call's
        first answer otherwise waits for it (2.7 s for a 230-token prompt with two tools, Qwen
        on 2 cores, against the 3 s first-token timeout)."""
        if self._cache is None:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def failed(error: BaseException) -> None:
            loop.call_soon_threadsafe(_settle, done, error)

        def finished() -> None:
            loop.call_soon_threadsafe(_settle, done, None)

        run = partial(self._prefill, list(messages), list(tools))
        self._scheduler.submit(Job(run, failed, finished))
        await done

    def _prefill(
        self, messages: list[ChatMessage], tools: list[ToolSpec], llm: Llama
    ) -> Generator[None, None, None]:
        assert self._cache is not None
        system, _ = self._prompt.tokens(messages, tools, self.default_max_tokens, self._n_ctx)
        if system:
            restore_longest_prefix(llm, self._cache, system, system)
        yield

    def _stream_with_tools(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        return tool_turn(
            lambda conversation, offered: self._texts(
                conversation, tools if offered else [], options
            ),
            messages,
            self.name,
        )

    async def _texts(
        self,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        options: GenerationOptions,
        grammar: LlamaGrammar | None = None,
    ) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def deliver(item: object) -> None:
            # A closed loop raises RuntimeError: the stream was abandoned and nobody listens.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        max_tokens = options.max_tokens or self.default_max_tokens
        # A spoken reply lets the voices synthesize first once its first piece is out; an
        # analysis under a grammar is nobody's first audio and waits for no one either way.
        pacer = LOCAL_CORES.reply_pacer() if grammar is None else None
        run = partial(
            self._generate,
            list(messages),
            list(tools),
            max_tokens,
            options.temperature,
            stop,
            deliver,
            grammar,
            pacer,
        )
        self._scheduler.submit(Job(run, deliver, partial(deliver, _END), pacer))
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, ProviderError):
                    raise item
                if isinstance(item, BaseException):
                    raise ProviderError(self.name, f"generation failed: {item!r}") from item
                assert isinstance(item, str)
                yield item
        finally:
            stop.set()

    def _generate(
        self,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        max_tokens: int,
        temperature: float,
        stop: threading.Event,
        deliver: Callable[[object], None],
        grammar: LlamaGrammar | None,
        pacer: ReplyPacer | None,
        llm: Llama,
    ) -> Generator[None, None, None]:
        """The reply on context `llm`, a token per step."""
        if stop.is_set():
            return
        system_tokens, prompt = self._prompt.tokens(messages, tools, max_tokens, self._n_ctx)
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
                if pacer is not None:
                    pacer.wrote(text)
            if produced >= max_tokens or llm.n_tokens + 1 >= self._n_ctx:
                break
            yield  # the other generations' turn
        tail = decoder.decode(b"", final=True)
        if tail:
            deliver(tail)
        if self._cache is not None and not stop.is_set() and grammar is None:
            self._cache.put(save_prefix(llm, is_system_prompt=False))

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _identity(path: Path) -> tuple[int, int, int, int]:
    """What tells a file from one put in its place: device, inode, size, modification time."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns
