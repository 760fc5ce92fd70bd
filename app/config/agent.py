"""An agent's configuration: ElevenLabs' field names where they exist, a `velox` section else.

The REST API validates request bodies with these models and stores the result as JSON; the
voice engine reads the same models when a call starts. Unknown ElevenLabs fields are kept
(``extra="allow"``) so a body written by the ElevenLabs SDK round-trips unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
)

from app.audio.formats import NAMED_FORMATS, format_named
from app.config.knowledge import KnowledgeBaseLocator, RagSettings
from app.config.languages import LANGUAGE_CODE, LanguagePreset
from app.config.system_tools import SYSTEM_TOOL_NAMES, BuiltInTools

_syntax_check = SandboxedEnvironment(autoescape=False)


# The longest a prompt and a spoken message may be, as written and as rendered for a call.
PROMPT_MAX_CHARS = 50_000
MESSAGE_MAX_CHARS = 5_000


def template_syntax_problem(source: str) -> str | None:
    """Why a template cannot be parsed (its line and the problem), or None when it can."""
    try:
        _syntax_check.parse(source)
    except TemplateSyntaxError as error:
        return f"template error on line {error.lineno}: {error.message}"
    return None


def _template(source: str) -> str:
    """Reject a prompt template that cannot be parsed, naming the line and the problem."""
    problem = template_syntax_problem(source)
    if problem is not None:
        raise ValueError(problem)
    return source


Template = Annotated[str, AfterValidator(_template)]

DEFAULT_PROMPT = (
    "You are a friendly, concise phone assistant. Answer in one or two short sentences."
)
DEFAULT_FIRST_MESSAGE = "Hello! How can I help you today?"


class _ElevenLabsSection(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


# Velox's own tool names and ElevenLabs' system tools' (`prompt.built_in_tools`).
RESERVED_TOOL_NAMES = frozenset({"end_call", "transfer_call", *SYSTEM_TOOL_NAMES})


class PromptTool(_ElevenLabsSection):
    """One tool in ElevenLabs' `prompt.tools` list.

    Velox runs `client` tools (executed by a web or app client over the conversation socket);
    other kinds are kept as written and not offered to the LLM.
    """

    type: str = "client"
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str = Field(default="", max_length=2000)
    parameters: dict[str, Any] | None = Field(
        default=None,
        description="a JSON schema of type object for the tool's arguments",
        json_schema_extra={
            "required": ["type"],
            "properties": {"type": {"const": "object"}, "properties": {"type": "object"}},
        },
    )
    expects_response: StrictBool = Field(
        default=False, description="wait for the client's result before the agent goes on"
    )
    response_timeout_secs: int = Field(default=20, ge=1, le=120)

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is None:
            return None
        if schema.get("type") != "object":
            raise ValueError('parameters must be a JSON schema with "type": "object"')
        if not isinstance(schema.get("properties", {}), dict):
            raise ValueError("parameters.properties must be an object")
        return schema


class PromptSettings(_ElevenLabsSection):
    prompt: Annotated[Template, Field(max_length=PROMPT_MAX_CHARS)] = DEFAULT_PROMPT
    llm: str | None = None
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=-1, ge=-1, description="-1 means the provider's default")
    tools: list[PromptTool] = Field(default_factory=list)
    # Webhook tools of the organization (`/v1/convai/tools`) the agent may call.
    tool_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    knowledge_base: list[KnowledgeBaseLocator] = Field(default_factory=list, max_length=100)
    rag: RagSettings = Field(default_factory=RagSettings)
    # ElevenLabs' system tools (end_call, transfer_to_number, skip_turn, ...).
    built_in_tools: BuiltInTools = Field(default_factory=BuiltInTools)

    @field_validator("tools")
    @classmethod
    def _distinct_names(cls, tools: list[PromptTool]) -> list[PromptTool]:
        names = [tool.name for tool in tools]
        for name in names:
            if name in RESERVED_TOOL_NAMES:
                raise ValueError(f"tool name {name!r} is reserved for a built-in tool")
            if names.count(name) > 1:
                raise ValueError(f"tool name {name!r} is used twice")
        return tools

    def client_tools(self) -> list[PromptTool]:
        return [tool for tool in self.tools if tool.type == "client"]


class AgentSection(_ElevenLabsSection):
    first_message: Annotated[Template, Field(max_length=MESSAGE_MAX_CHARS)] = DEFAULT_FIRST_MESSAGE
    language: str = Field(default="en", min_length=2, max_length=16)
    prompt: PromptSettings = Field(default_factory=PromptSettings)
    max_conversation_duration_message: str | None = None
    disable_first_message_interruptions: StrictBool = False


def _format_name(name: str) -> str:
    format_named(name)
    return name


FormatName = Annotated[
    str,
    AfterValidator(_format_name),
    WithJsonSchema({"type": "string", "enum": list(NAMED_FORMATS)}),
]


class TtsSection(_ElevenLabsSection):
    voice_id: str = "default"
    agent_output_audio_format: FormatName = Field(
        default="pcm_16000", description="format of agent audio on the conversation WebSocket"
    )


class AsrSection(_ElevenLabsSection):
    user_input_audio_format: FormatName = Field(
        default="pcm_16000", description="format of caller audio on the conversation WebSocket"
    )


class TurnSection(_ElevenLabsSection):
    turn_timeout: float = Field(
        default=7.0, description="seconds of caller silence before the agent re-prompts; -1 never"
    )
    silence_end_call_timeout: float = Field(
        default=30.0, description="seconds of caller silence before the agent hangs up; -1 never"
    )


class ConversationSection(_ElevenLabsSection):
    max_duration_seconds: int = Field(default=600, ge=10, le=4 * 3600)
    text_only: StrictBool = False


class ConversationConfig(_ElevenLabsSection):
    agent: AgentSection = Field(default_factory=AgentSection)
    tts: TtsSection = Field(default_factory=TtsSection)
    asr: AsrSection = Field(default_factory=AsrSection)
    turn: TurnSection = Field(default_factory=TurnSection)
    conversation: ConversationSection = Field(default_factory=ConversationSection)
    # The other languages the agent speaks, by code (`language_detection` switches to them).
    language_presets: dict[Annotated[str, Field(pattern=LANGUAGE_CODE)], LanguagePreset] = Field(
        default_factory=dict, max_length=50
    )


class AuthSettings(_ElevenLabsSection):
    enable_auth: StrictBool = Field(
        default=False,
        description="private agent: a conversation needs a signed URL or the organization's key",
    )


class OverrideSettings(_ElevenLabsSection):
    conversation_config_override: dict[str, Any] = Field(
        default_factory=dict,
        description="the conversation_config fields a client may override, as nested true flags",
    )


class DataCollectionField(_ElevenLabsSection):
    """One value the post-call analysis extracts from the transcript (ElevenLabs'
    `platform_settings.data_collection` entries)."""

    type: Literal["string", "boolean", "integer", "number"] = "string"
    description: str = Field(default="", max_length=1000)


class EvaluationCriterion(_ElevenLabsSection):
    """A goal the post-call analysis judges the call against (success, failure or unknown)."""

    id: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    name: str = Field(default="", max_length=200)
    type: Literal["prompt"] = "prompt"
    conversation_goal_prompt: str = Field(default="", max_length=2000)


class EvaluationSettings(_ElevenLabsSection):
    criteria: list[EvaluationCriterion] = Field(default_factory=list, max_length=30)


class PrivacySettings(_ElevenLabsSection):
    record_voice: StrictBool = Field(
        default=False,
        description="record every call of this agent: the caller left, what they heard right "
        "(off by default: a caller may have to be told, see velox.recording_disclosure)",
    )
    retention_days: int = Field(
        default=-1,
        ge=-1,
        le=36500,
        description="delete a call (transcript, events, analysis, recording) this many days "
        "after it ended; -1 keeps calls",
    )
    audio_retention_days: int = Field(
        default=-1,
        ge=-1,
        le=36500,
        description="delete a call's recording this many days after it ended (the transcript "
        "stays, as retention_days says); -1 keeps recordings",
    )
    redact_pii: StrictBool = Field(
        default=False,
        description="store transcripts and analyses with phone numbers, e-mail addresses and "
        "card numbers replaced (the agent still hears them during the call)",
    )


class PlatformSettings(_ElevenLabsSection):
    auth: AuthSettings = Field(default_factory=AuthSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    overrides: OverrideSettings = Field(default_factory=OverrideSettings)
    data_collection: dict[
        Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")], DataCollectionField
    ] = Field(default_factory=dict, max_length=40)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)


class ProviderChoice(BaseModel):
    """Registered provider names per role (see `app.providers.registry`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    vad: str = "silero"
    stt: str = "whisper"
    llm: str = "smollm2"
    tts: str = "piper"


class FallbackChoice(BaseModel):
    """Providers to fall back on, in order, per role. None (the default) means the offline
    provider of that role when the agent's own choice is a cloud one; [] means no fallback."""

    model_config = ConfigDict(extra="forbid", strict=True)

    stt: list[str] | None = None
    llm: list[str] | None = None
    tts: list[str] | None = None


class ProviderTimeouts(BaseModel):
    """How long a provider may take before the call moves on without it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    stt_connect_ms: int = Field(default=3000, ge=100, le=30000)
    stt_final_ms: int = Field(default=2000, ge=100, le=30000)
    llm_first_token_ms: int = Field(default=3000, ge=100, le=60000)
    tts_first_byte_ms: int = Field(default=2500, ge=100, le=30000)


class TransferDestination(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    phone_number: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    description: str = ""


class VeloxSection(BaseModel):
    """Velox settings that ElevenLabs' agent body has no field for."""

    model_config = ConfigDict(extra="forbid", strict=True)

    providers: ProviderChoice = Field(default_factory=ProviderChoice)
    fallbacks: FallbackChoice = Field(default_factory=FallbackChoice)
    # Voice ids for fallback voices (a provider's voice ids mean nothing to another provider).
    fallback_voices: dict[str, str] = Field(default_factory=dict)
    provider_timeouts: ProviderTimeouts = Field(default_factory=ProviderTimeouts)
    # End of turn: silence after the caller's last speech before the agent answers. A finished
    # question answers sooner; a statement waits out a thinking pause; a dangling "and ..." or
    # "um" waits longer still.
    end_of_turn_silence_ms: int = Field(default=800, ge=100, le=5000)
    end_of_turn_complete_ms: int = Field(default=280, ge=50, le=5000)
    end_of_turn_incomplete_ms: int = Field(default=1200, ge=100, le=10000)
    # Caller speech over the agent: the agent stops (yields) after this much of it, and keeps
    # the rest of its reply until it knows what the speech was. At the VAD's start run (60 ms)
    # or below, it yields the moment the caller's speech starts.
    barge_in_min_speech_ms: int = Field(default=60, ge=20, le=2000)
    # Speech over the agent that lasts this long, or says an interrupting word ("wait",
    # "sorry"), is a real interruption; so are other words that ask a question, or that outlast
    # `short_burst_ms`. Backchannels ("mm-hmm", "okay"), a cough, a noise, or a shorter burst of
    # other words (a recognizer without interim results often makes words of a murmur) let the
    # reply resume from the last word boundary the caller heard.
    interruption_min_speech_ms: int = Field(default=900, ge=100, le=5000)
    short_burst_ms: int = Field(default=800, ge=0, le=5000)
    # A burst that ended before the recognizer said its words (one without interim results)
    # keeps the reply held up to this long for them: "Sorry, ..." must not get the reply back in
    # the caller's breath after "Sorry". Past it the reply resumes and the words, when they
    # come, may still take the turn.
    resume_words_wait_ms: int = Field(default=700, ge=0, le=3000)
    backchannel_phrases: list[str] | None = Field(
        default=None, description="replaces the default backchannels of the agent's language"
    )
    interruption_phrases: list[str] | None = Field(
        default=None,
        description="replaces the default interrupting words of the agent's language",
    )
    # A caller who speaks over an answer within this long of their own last words had not
    # finished: the answer is withdrawn and the whole utterance answered once.
    premature_recovery_ms: int = Field(default=1000, ge=0, le=10000)
    # The agent's echo on a speakerphone is not the caller: caller audio must be louder than the
    # agent's own audio of the last `echo_tail_ms` less the echo loss measured on the line (and
    # at most this many dB below it before the line is measured). 0 turns the echo gate off.
    echo_suppression_db: float = Field(default=12.0, ge=0.0, le=40.0)
    echo_tail_ms: int = Field(default=300, ge=50, le=2000)
    allow_barge_in: StrictBool = True
    reprompt_message: str = "Are you still there?"
    goodbye_message: str = "I haven't heard anything, so I'll end the call now. Goodbye!"
    fallback_message: str = "Sorry, I'm having trouble right now. Could you say that again?"
    # Said while a webhook tool works (its `pre_tool_speech`: always when `force`, after
    # `tool_filler_after_ms` without an answer when `auto`); empty: say nothing.
    tool_filler_message: str = Field(default="One moment, let me check that.", max_length=500)
    tool_filler_after_ms: int = Field(default=1200, ge=0, le=30000)
    transfer_destinations: list[TransferDestination] = Field(default_factory=list)
    # Said before the first message of a recorded call (e.g. "This call is recorded.").
    recording_disclosure: str = Field(default="", max_length=500)
    dynamic_variables: dict[str, str] = Field(
        default_factory=dict, description="defaults for the prompt template's variables"
    )


class AgentConfig(BaseModel):
    """The whole stored configuration of one agent."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(default="Agent", min_length=1, max_length=200)
    tags: list[str] = Field(default_factory=list)
    conversation_config: ConversationConfig = Field(default_factory=ConversationConfig)
    platform_settings: PlatformSettings = Field(default_factory=PlatformSettings)
    velox: VeloxSection = Field(default_factory=VeloxSection)
