"""ElevenLabs' system tools (`prompt.built_in_tools`): which built-in tools an agent offers.

Each entry is ElevenLabs' `{type: "system", name, description, params: {system_tool_type, ...}}`.
Velox runs all seven: `end_call`, `transfer_to_number`, `transfer_to_agent`, `skip_turn`,
`language_detection`, `voicemail_detection` and `play_keypad_touch_tone`. Unknown fields are
kept so a body written by the ElevenLabs SDK round-trips.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)

SystemToolType = Literal[
    "end_call",
    "language_detection",
    "transfer_to_agent",
    "transfer_to_number",
    "skip_turn",
    "play_keypad_touch_tone",
    "voicemail_detection",
]

SYSTEM_TOOL_NAMES: frozenset[str] = frozenset(get_args(SystemToolType))

# The system tools Velox runs in a call (every kind ElevenLabs has).
RUNNABLE = SYSTEM_TOOL_NAMES

PHONE_NUMBER = r"^\+[1-9]\d{6,14}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class TransferDestinationPhone(_Section):
    """ElevenLabs' `transfer_destination` of type `phone` (the only kind Velox dials)."""

    type: Literal["phone"] = "phone"
    phone_number: str = Field(pattern=PHONE_NUMBER)


class PhoneNumberTransfer(_Section):
    """One number `transfer_to_number` may dial, and when (`condition`, told to the model)."""

    phone_number: str | None = Field(default=None, pattern=PHONE_NUMBER)
    transfer_destination: TransferDestinationPhone | None = None
    condition: str = Field(default="", max_length=1000)
    # ElevenLabs' kinds. `conference` is a warm transfer: the person who answers first hears a
    # summary of the call, then the caller is joined (Twilio). Without it Velox dials blind.
    transfer_type: Literal["conference", "blind", "sip_refer"] | None = None

    @model_validator(mode="after")
    def _has_a_number(self) -> PhoneNumberTransfer:
        if self.number is None:
            raise ValueError("a transfer needs phone_number or transfer_destination.phone_number")
        return self

    @property
    def number(self) -> str | None:
        if self.transfer_destination is not None:
            return self.transfer_destination.phone_number
        return self.phone_number


class AgentTransfer(_Section):
    """One agent `transfer_to_agent` may hand the caller to (ElevenLabs' `AgentTransfer`): when
    (`condition`, told to the model), after how long, what is said first, and whether the
    other agent then says its own first message."""

    agent_id: str = Field(min_length=1, max_length=64)
    condition: str = Field(default="", max_length=1000)
    delay_ms: int = Field(default=0, ge=0, le=10_000)
    transfer_message: str | None = Field(default=None, max_length=1000)
    enable_transferred_agent_first_message: StrictBool = False


class SystemToolParams(_Section):
    """`params`: the tool's kind and its own settings (only the kind's fields matter)."""

    system_tool_type: SystemToolType
    # `transfer_to_number`'s numbers, or `transfer_to_agent`'s agents (kept as written).
    transfers: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    voicemail_message: str | None = Field(default=None, max_length=5000)
    use_out_of_band_dtmf: StrictBool | None = None
    suppress_turn_after_dtmf: StrictBool | None = None
    # `language_detection`: switch only within the caller's first two turns (and for good once
    # a switch happened then).
    only_at_conversation_start: StrictBool | None = None

    @model_validator(mode="after")
    def _transfers_checked(self) -> SystemToolParams:
        kinds: dict[str, type[BaseModel]] = {
            "transfer_to_number": PhoneNumberTransfer,
            "transfer_to_agent": AgentTransfer,
        }
        kind = kinds.get(self.system_tool_type)
        for index, transfer in enumerate(self.transfers if kind is not None else []):
            try:
                kind.model_validate(transfer)  # type: ignore[union-attr]
            except ValidationError as error:
                problems = "; ".join(e["msg"] for e in error.errors())
                raise ValueError(f"transfers[{index}]: {problems}") from None
        return self

    def phone_transfers(self) -> list[PhoneNumberTransfer]:
        """`transfer_to_number`'s destinations (checked when the agent was saved)."""
        if self.system_tool_type != "transfer_to_number":
            return []
        return [PhoneNumberTransfer.model_validate(t) for t in self.transfers]

    def agent_transfers(self) -> list[AgentTransfer]:
        """`transfer_to_agent`'s agents (checked when the agent was saved)."""
        if self.system_tool_type != "transfer_to_agent":
            return []
        return [AgentTransfer.model_validate(t) for t in self.transfers]


class SystemTool(_Section):
    type: Literal["system"] = "system"
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str = Field(default="", max_length=2000)
    params: SystemToolParams


class BuiltInTools(_Section):
    """`prompt.built_in_tools`: each key holds its tool, whose `params.system_tool_type` must
    be the key's own kind."""

    end_call: SystemTool | None = None
    language_detection: SystemTool | None = None
    transfer_to_agent: SystemTool | None = None
    transfer_to_number: SystemTool | None = None
    skip_turn: SystemTool | None = None
    play_keypad_touch_tone: SystemTool | None = None
    voicemail_detection: SystemTool | None = None

    @model_validator(mode="after")
    def _kinds_match_their_keys(self) -> BuiltInTools:
        for key, tool in self.configured().items():
            if tool.params.system_tool_type != key:
                raise ValueError(
                    f"built_in_tools.{key} has params.system_tool_type "
                    f"{tool.params.system_tool_type!r}; it must be {key!r}"
                )
        return self

    def configured(self) -> dict[str, SystemTool]:
        """The tools set, by kind."""
        kinds: tuple[SystemToolType, ...] = (
            "end_call",
            "language_detection",
            "transfer_to_agent",
            "transfer_to_number",
            "skip_turn",
            "play_keypad_touch_tone",
            "voicemail_detection",
        )
        return {kind: tool for kind in kinds if (tool := getattr(self, kind)) is not None}
