"""The Protocols every provider implements, and the values that cross them.

Providers are process-wide objects (models load once); each call opens its own streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from app.audio.formats import AudioChunk, AudioFormat
from app.config.redaction import redact


class ProviderError(Exception):
    """A provider failed; carries which one and what the operator can do about it.

    `status` is the service's HTTP status when it gave one (401, 429, 503...): the resilience
    layer retries set-up on 429 and 5xx and never on 401/403.
    """

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        # Providers' error bodies may echo the request, keys included: never carried further.
        super().__init__(redact(f"{provider}: {message}"))
        self.provider = provider
        self.status = status


# --- voice activity -------------------------------------------------------------------------


class VadStream(Protocol):
    """Scores 20 ms PCM16 16 kHz frames of one call; keeps that call's state.

    Async so that a model can score many calls' frames in one batch, off the event loop.
    """

    async def speech_probability(self, frame: bytes) -> float: ...


@runtime_checkable
class VoiceActivityDetector(Protocol):
    @property
    def name(self) -> str: ...

    def open_stream(self) -> VadStream: ...


# --- speech to text -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transcript:
    """Words heard. `end_of_speech` is the recognizer's own view that the caller finished an
    utterance (Deepgram's `speech_final` or `UtteranceEnd`); the turn rules may use it.
    `recognizer_lost` (no words) says the recognizer failed and was replaced: whatever it had
    heard since its last final will never come. A final that continues a sentence the caller
    paused in may carry `sentence`, the whole of it heard again, which stands for `revises`, the
    earlier finals' words (Whisper: the first part alone is often misheard at its cut)."""

    text: str
    is_final: bool
    confidence: float | None = None
    end_of_speech: bool = False
    recognizer_lost: bool = False
    sentence: str = ""
    revises: str = ""


class SttStream(Protocol):
    """One call's recognizer. Audio goes in as PCM16 16 kHz; transcripts come out."""

    async def push_audio(self, frame: bytes) -> None: ...

    async def finalize(self) -> None:
        """The caller paused: emit a final for everything heard since the last final."""

    def transcripts(self) -> AsyncIterator[Transcript]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class StartsFinalsEarly(Protocol):
    """A recognizer whose final costs a decode after the pause (Whisper) may start it sooner.

    `caller_pausing(pause_in_ms)` comes once per stretch of quiet inside the caller's speech,
    before that quiet is a pause: the recognizer may start on the words so far, as if followed
    by `pause_in_ms` more of quiet (what the final's audio would end with). Either `finalize()`
    follows with no speech between (the early start then stands for the final), or the caller
    speaks on and a later stretch of quiet calls it again.
    """

    async def caller_pausing(self, pause_in_ms: int) -> None: ...


@runtime_checkable
class SpeechToText(Protocol):
    @property
    def name(self) -> str: ...

    async def open_stream(self, language: str) -> SttStream: ...


# --- language model -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)  # JSON schema


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


LlmEvent = TextDelta | ToolCall


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    temperature: float = 0.7
    max_tokens: int | None = None


@runtime_checkable
class LanguageModel(Protocol):
    @property
    def name(self) -> str: ...

    def stream(
        self,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        options: GenerationOptions,
    ) -> AsyncIterator[LlmEvent]:
        """Tokens as they are generated, then any tool calls. Cancel by closing the iterator."""
        ...


@runtime_checkable
class PrefillsPrompts(Protocol):
    """A language model that can read a call's system prompt (and tools) ahead of its first
    turn, while the greeting plays (a local model whose prompt evaluation takes seconds)."""

    async def prefill(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> None: ...


@runtime_checkable
class ChecksHangUps(Protocol):
    """A language model whose `end_call` the engine checks before hanging up (`checks_hang_ups`
    true): one that reaches for a tool it was not asked for, as a small local model does when the
    caller wants something it has no tool for (`app/engine/leaving.py`)."""

    @property
    def checks_hang_ups(self) -> bool: ...


@runtime_checkable
class JsonLanguageModel(Protocol):
    """A language model that can also give one whole reply as a JSON object (post-call
    analysis). Constrained to `schema` where the model can be (a grammar); elsewhere JSON mode,
    with the keys named in the prompt. The caller checks the text it gets."""

    @property
    def name(self) -> str: ...

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], options: GenerationOptions
    ) -> str: ...


# --- text to speech -------------------------------------------------------------------------


@runtime_checkable
class TextToSpeech(Protocol):
    @property
    def name(self) -> str: ...

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        """The format `synthesize` will yield: `preferred` when the voice can make it."""
        ...

    def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        """Audio for `text` as it is produced. Cancel by closing the iterator."""
        ...


class TtsSession(Protocol):
    """One call's open connection to a voice service, reused by every sentence of the call.

    Opened when the call starts (so the first sentence pays no connection set-up); sentences of
    one agent turn share `turn_id`, so a service that supports it continues their prosody.
    """

    def synthesize(self, text: str, *, turn_id: str) -> AsyncIterator[AudioChunk]:
        """Audio for one sentence, as it is produced; ends when that sentence's audio is done."""
        ...

    async def end_turn(self, turn_id: str) -> None:
        """No more sentences will follow in this turn (lets the service flush)."""

    async def cancel(self, turn_id: str) -> None:
        """Barge-in: stop generating this turn's audio at once."""

    async def aclose(self) -> None: ...


@runtime_checkable
class SessionTextToSpeech(TextToSpeech, Protocol):
    """A voice that can also hold a connection open for a whole call."""

    async def open_session(self, voice_id: str, audio_format: AudioFormat) -> TtsSession: ...


async def close_stream(stream: object) -> None:
    """Stop a provider's stream: async generators close (running their cleanup); others need
    nothing. Cancelling a turn must stop the provider's work, not only stop reading it."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
