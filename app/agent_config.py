"""An agent's configuration: ElevenLabs' field names where they exist, a `velox` section else.

The REST API validates request bodies with these models and stores the result as JSON; the
voice engine reads the same models when a call starts. Unknown ElevenLabs fields are kept
(``extra="allow"``) so a body written by the ElevenLabs SDK round-trips unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_syntax_check = SandboxedEnvironment(autoescape=False)


def _template(source: str) -> str:
    """Reject a prompt template that cannot be parsed, naming the line and the problem."""
    try:
        _syntax_check.parse(source)
    except TemplateSyntaxError as error:
        raise ValueError(f"template error on line {error.lineno}: {error.message}") from error
    return source


Template = Annotated[str, AfterValidator(_template)]

DEFAULT_PROMPT = (
    "You are a friendly, concise phone assistant. Answer in one or two short sentences."
)
DEFAULT_FIRST_MESSAGE = "Hello! How can I help you today?"


class _ElevenLabsSection(BaseModel):
    model_config = ConfigDict(extra="allow")


class PromptSettings(_ElevenLabsSection):
    prompt: Template = DEFAULT_PROMPT
    llm: str | None = None
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=-1, ge=-1, description="-1 means the provider's default")


class AgentSection(_ElevenLabsSection):
    first_message: Template = DEFAULT_FIRST_MESSAGE
    language: str = Field(default="en", min_length=2, max_length=16)
    prompt: PromptSettings = Field(default_factory=PromptSettings)
    max_conversation_duration_message: str | None = None
    disable_first_message_interruptions: bool = False


class TtsSection(_ElevenLabsSection):
    voice_id: str = "default"


class TurnSection(_ElevenLabsSection):
    turn_timeout: float = Field(
        default=7.0, description="seconds of caller silence before the agent re-prompts; -1 never"
    )
    silence_end_call_timeout: float = Field(
        default=30.0, description="seconds of caller silence before the agent hangs up; -1 never"
    )


class ConversationSection(_ElevenLabsSection):
    max_duration_seconds: int = Field(default=600, ge=10, le=4 * 3600)


class ConversationConfig(_ElevenLabsSection):
    agent: AgentSection = Field(default_factory=AgentSection)
    tts: TtsSection = Field(default_factory=TtsSection)
    turn: TurnSection = Field(default_factory=TurnSection)
    conversation: ConversationSection = Field(default_factory=ConversationSection)


class ProviderChoice(BaseModel):
    """Registered provider names per role (see `app.providers.registry`)."""

    model_config = ConfigDict(extra="forbid")

    vad: str = "silero"
    stt: str = "whisper"
    llm: str = "smollm2"
    tts: str = "piper"


class TransferDestination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    description: str = ""


class VeloxSection(BaseModel):
    """Velox settings that ElevenLabs' agent body has no field for."""

    model_config = ConfigDict(extra="forbid")

    providers: ProviderChoice = Field(default_factory=ProviderChoice)
    # End of turn: silence after the caller's last speech before the agent answers. A finished
    # question answers sooner, a dangling "and ..." waits longer.
    end_of_turn_silence_ms: int = Field(default=600, ge=100, le=5000)
    end_of_turn_complete_ms: int = Field(default=350, ge=50, le=5000)
    end_of_turn_incomplete_ms: int = Field(default=1200, ge=100, le=10000)
    # Caller speech shorter than this while the agent talks (a cough, a click) is not barge-in.
    barge_in_min_speech_ms: int = Field(default=200, ge=20, le=2000)
    allow_barge_in: bool = True
    reprompt_message: str = "Are you still there?"
    goodbye_message: str = "I haven't heard anything, so I'll end the call now. Goodbye!"
    fallback_message: str = "Sorry, I'm having trouble right now. Could you say that again?"
    transfer_destinations: list[TransferDestination] = Field(default_factory=list)
    dynamic_variables: dict[str, str] = Field(
        default_factory=dict, description="defaults for the prompt template's variables"
    )


class AgentConfig(BaseModel):
    """The whole stored configuration of one agent."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="Agent", min_length=1, max_length=200)
    tags: list[str] = Field(default_factory=list)
    conversation_config: ConversationConfig = Field(default_factory=ConversationConfig)
    platform_settings: dict[str, Any] = Field(default_factory=dict)
    velox: VeloxSection = Field(default_factory=VeloxSection)
