"""Fallback chains: a call never goes silent because one provider is slow or down.

Each role's adapter holds the agent's chain (say Deepgram → Whisper, Groq → SmolLM2, ElevenLabs
→ Cartesia → Piper) and implements the role's Protocol, so the engine does not know it is there.
A provider that fails or misses its first-result deadline is recorded (a call event, a metric,
its circuit breaker) and the call moves on to the next one for good:
- speech to text reconnects to the next recognizer and keeps listening;
- a language model that fails a turn makes the agent say its fallback line (the `Responder`
  does that on the `ProviderError`), and the next turn is answered by the next model;
- a voice that fails before any audio of a sentence is heard is replaced for that very
  sentence, so the caller notices nothing; one that fails mid-sentence is replaced for the next.
Connection set-up (not requests) is retried with backoff when the failure may be passing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from app.observability.metrics import PROVIDER_FAILURES, PROVIDER_LATENCY
from app.providers.base import (
    ChatMessage,
    ChecksHangUps,
    GenerationOptions,
    JsonLanguageModel,
    LanguageModel,
    LlmEvent,
    PrefillsPrompts,
    ProviderError,
    ToolSpec,
    close_stream,
)
from app.providers.fallback.breakers import Admission, CircuitBreakers

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=_Named)

SETUP_ATTEMPTS = 3
SETUP_FIRST_DELAY_S = 0.2
# HTTP statuses that will not pass by retrying: a bad key, a forbidden model, a bad request.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 422})


class ProviderObserver(Protocol):
    def event(self, kind: str, **data: Any) -> None: ...

    def count(self, name: str, n: int = 1) -> None: ...


class _Unobserved:
    def event(self, kind: str, **data: Any) -> None:
        return None

    def count(self, name: str, n: int = 1) -> None:
        return None


def describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__


class Chain(Generic[P]):
    """One call's providers for one role, the one in use, and their shared breakers."""

    def __init__(
        self, role: str, members: Sequence[P], breakers: CircuitBreakers, scope: str
    ) -> None:
        if not members:
            raise ValueError(f"a {role} chain needs at least one provider")
        self.role = role
        self.members = list(members)
        self._breakers = breakers
        self._scope = scope
        self.current = 0
        self.observer: ProviderObserver = _Unobserved()
        self._trials: set[int] = set()
        # Start past providers whose breaker is open (keeping the last one whatever its state).
        # Only a look: a half-open try is taken when the provider is used (a provider set built
        # to warm a greeting from the phrase cache must not spend it).
        while self.current < len(self.members) - 1 and not self._breakers.allows(
            str(self.members[self.current].name), self._scope
        ):
            self.current += 1

    @property
    def name(self) -> str:
        return str(self.members[self.current].name)

    def _allows(self, index: int) -> bool:
        """Whether this call may use member `index`; a half-open try, once taken, is this
        call's until it is decided."""
        if index in self._trials:
            return True
        provider = str(self.members[index].name)
        admission = self._breakers.admit(provider, self._scope)
        if admission is Admission.TRIAL:
            self._trials.add(index)
            self.observer.event("provider_breaker_trial", role=self.role, provider=provider)
        return admission is not Admission.REFUSED

    def candidates(self) -> Iterator[int]:
        """Indexes to try, in order, from the one in use (the last one whatever its breaker).

        Lazy: a member's half-open try is taken only when the call gets that far."""
        last = len(self.members) - 1
        for index in range(self.current, last + 1):
            if index == last or self._allows(index):
                yield index

    def has_fallback(self) -> bool:
        return self.current < len(self.members) - 1

    def succeeded(self, index: int) -> None:
        provider = str(self.members[index].name)
        trial = index in self._trials
        self._trials.discard(index)
        if self._breakers.record_success(provider, self._scope, trial=trial):
            log.info("%s provider %s is back: its breaker closed", self.role, provider)
            self.observer.event("provider_breaker_closed", role=self.role, provider=provider)

    def failed(self, index: int, error: BaseException, elapsed_s: float) -> None:
        """Record the failure and move the call past this provider if another one is left."""
        provider = str(self.members[index].name)
        trial = index in self._trials
        self._trials.discard(index)
        if self._breakers.record_failure(provider, self._scope, trial=trial):
            self.observer.event("provider_breaker_opened", role=self.role, provider=provider)
        PROVIDER_FAILURES.labels(role=self.role, provider=provider).inc()
        moved_to = None
        if index >= self.current and index < len(self.members) - 1:
            self.current = index + 1
            moved_to = self.name
        log.warning(
            "%s provider %s failed (%s); now %s", self.role, provider, describe(error), moved_to
        )
        self.observer.count("provider_failures")
        self.observer.event(
            "provider_failed",
            role=self.role,
            provider=provider,
            error=describe(error),
            after_ms=round(elapsed_s * 1000, 1),
            fallback=moved_to,
        )


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ProviderError):
        return error.status not in PERMANENT_STATUSES
    return isinstance(error, TimeoutError | OSError | ConnectionError)


async def open_with_retries(
    open_connection: Callable[[], Awaitable[T]], *, timeout_s: float, attempts: int = SETUP_ATTEMPTS
) -> T:
    """Connection set-up with backoff, for failures that may pass (429, 5xx, a refused socket)."""
    delay = SETUP_FIRST_DELAY_S
    for attempt in range(1, attempts + 1):
        try:
            async with asyncio.timeout(timeout_s):
                return await open_connection()
        except Exception as error:
            if attempt == attempts or not _retryable(error):
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


async def within(stream: AsyncIterator[T], timeout_s: float) -> AsyncIterator[T]:
    """`stream`'s items, each due within `timeout_s` of asking for it (TimeoutError if not).

    Only the wait on the provider is timed, not the time the consumer takes between items."""
    while True:
        try:
            async with asyncio.timeout(timeout_s):
                item = await anext(stream)
        except StopAsyncIteration:
            return
        yield item


# --- language model -------------------------------------------------------------------------


class FallbackLanguageModel:
    def __init__(self, chain: Chain[LanguageModel], first_token_timeout_s: float) -> None:
        self.chain = chain
        self._timeout_s = first_token_timeout_s

    @property
    def name(self) -> str:
        return self.chain.name

    @property
    def _in_use(self) -> LanguageModel:
        """The member answering now (a check or a read-ahead has no fallback)."""
        return self.chain.members[self.chain.current]

    @property
    def checks_hang_ups(self) -> bool:
        """Whether the model in use wants its `end_call` checked (`ChecksHangUps`)."""
        model = self._in_use
        return isinstance(model, ChecksHangUps) and model.checks_hang_ups

    async def prefill(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> None:
        """The model in use reads the prompt ahead, if it can (`PrefillsPrompts`)."""
        model = self._in_use
        if isinstance(model, PrefillsPrompts):
            await model.prefill(messages, tools)

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], options: GenerationOptions
    ) -> str:
        """One JSON reply from the model in use (no fallback: a check, not a turn)."""
        model = self._in_use
        if not isinstance(model, JsonLanguageModel):
            raise ProviderError(model.name, "gives no JSON replies")
        return await model.complete_json(messages, schema, options)

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        index = next(self.chain.candidates())
        provider = self.chain.members[index]
        started = time.monotonic()
        events = provider.stream(messages, tools, options)
        try:
            try:
                async with asyncio.timeout(self._timeout_s):
                    first = await anext(events)
            except StopAsyncIteration:
                self.chain.succeeded(index)
                return
            except Exception as error:
                self.chain.failed(index, error, time.monotonic() - started)
                raise ProviderError(provider.name, f"no answer: {describe(error)}") from error
            PROVIDER_LATENCY.labels("llm", provider.name, "first_token").observe(
                time.monotonic() - started
            )
            yield first
            # A stream that stalls after its first tokens fails the turn as a silent one would:
            # each later event is due within the same timeout. The last model of the chain is
            # waited for (a slow offline model writing a tool call yields nothing meanwhile).
            last = index == len(self.chain.members) - 1
            try:
                async for event in events if last else within(events, self._timeout_s):
                    yield event
            except Exception as error:
                self.chain.failed(index, error, time.monotonic() - started)
                raise ProviderError(provider.name, f"stopped: {describe(error)}") from error
            self.chain.succeeded(index)
        finally:
            await close_stream(events)
