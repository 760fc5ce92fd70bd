"""ElevenLabs Agents conversation WebSocket, server side, sans-I/O: the client's messages.

Shapes follow what the official clients actually put on the wire: the Python SDK
(`elevenlabs/conversational_ai/conversation.py`, 2.78.0, cited as `conversation.py:LINE`) and the
browser client `@elevenlabs/client` (`packages/client/src/*.ts` in github.com/elevenlabs/packages),
cross-checked against the published contract `packages/types/schemas/agent.asyncapi.yaml` there.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from telephony.json_frames import (
    MalformedMessage,
    decode_base64,
    json_object,
    optional,
    require,
    require_int,
)

Scalar = str | int | float | bool


# ---- client -> server events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserAudioChunk:
    """Caller audio in the `user_input_audio_format` we announced (16-bit LE PCM or mu-law)."""

    audio: bytes


@dataclass(frozen=True, slots=True)
class ConversationInitiation:
    """The client's first message: per-conversation overrides, variables and identity.

    `overrides` is the raw `conversation_config_override`, checked only for being an object.
    """

    dynamic_variables: dict[str, Scalar] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    custom_llm_extra_body: dict[str, Any] | None = None
    user_id: str | None = None
    source: str | None = None
    source_version: str | None = None

    @property
    def text_only(self) -> bool:
        """Whether the client asked for a text-only conversation (no audio either way).

        The JS client sends `conversation.text_only`; the Python SDK sets a top-level
        `text_only` when it has no audio interface (conversation.py:522-523). Honour both.
        """
        conversation = self.overrides.get("conversation")
        nested = conversation.get("text_only") if isinstance(conversation, dict) else None
        return nested is True or self.overrides.get("text_only") is True


@dataclass(frozen=True, slots=True)
class Pong:
    """Echo of a `ping` we sent; `event_id` is the ping's, so round-trip time can be measured."""

    event_id: int


@dataclass(frozen=True, slots=True)
class UserMessage:
    """Typed user text that starts a turn as if spoken (empty when the client sent null)."""

    text: str


@dataclass(frozen=True, slots=True)
class ContextualUpdate:
    """Background information for the agent's context that must not start a turn."""

    text: str


@dataclass(frozen=True, slots=True)
class UserActivity:
    """The user is active (typing, say): reset idle timers and hold back the agent."""


@dataclass(frozen=True, slots=True)
class ClientToolResult:
    """The outcome of a `client_tool_call`; `result` is text (non-text results arrive as JSON)."""

    tool_call_id: str
    result: str
    is_error: bool


@dataclass(frozen=True, slots=True)
class Feedback:
    """A like or dislike for the agent response that carried `event_id` (JS `sendFeedback`)."""

    event_id: int
    score: Literal["like", "dislike"]


@dataclass(frozen=True, slots=True)
class MultimodalMessage:
    """User text with references to previously uploaded files (Python `send_multimodal_message`)."""

    text: str | None
    file_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class McpToolApprovalResult:
    """The user's approval or rejection of an MCP tool call (JS `sendMCPToolApprovalResult`)."""

    tool_call_id: str
    is_approved: bool


ClientEvent = (
    UserAudioChunk
    | ConversationInitiation
    | Pong
    | UserMessage
    | ContextualUpdate
    | UserActivity
    | ClientToolResult
    | Feedback
    | MultimodalMessage
    | McpToolApprovalResult
)


class ConversationParser:
    """Parses one conversation's inbound frames and remembers its initiation message.

    Every rejected frame is counted in `malformed` by reason before `MalformedMessage` is raised.
    """

    def __init__(self) -> None:
        self.initiation: ConversationInitiation | None = None
        self.malformed: Counter[str] = Counter()

    def parse(self, message: str | bytes) -> ClientEvent:
        """Turn one WebSocket frame into an event, or raise (and count) `MalformedMessage`."""
        try:
            return self._parse(message)
        except MalformedMessage as error:
            self.malformed[error.reason] += 1
            raise

    def _parse(self, message: str | bytes) -> ClientEvent:
        obj = json_object(message, "conversation")
        kind = obj.get("type")
        # Audio carries no `type` (conversation.py:1336-1340, VoiceConversation.ts, asyncapi).
        if (kind is None and "user_audio_chunk" in obj) or kind == "user_audio_chunk":
            chunk = require(obj, "user_audio_chunk", str, "user_audio_chunk")
            return UserAudioChunk(audio=decode_base64(chunk))
        if kind is None:
            raise MalformedMessage("missing_type", "no 'type' and no 'user_audio_chunk'")
        if kind == "conversation_initiation_client_data":
            return self._initiation(obj)
        if kind == "pong":
            return Pong(event_id=require_int(obj, "event_id", "pong"))
        if kind == "user_message":
            text = optional(obj, "text", str, "user_message")
            return UserMessage(text=text or "")
        if kind == "contextual_update":
            return ContextualUpdate(text=require(obj, "text", str, "contextual_update"))
        if kind == "user_activity":
            return UserActivity()
        if kind == "client_tool_result":
            return _client_tool_result(obj)
        if kind == "feedback":
            score = obj.get("score")
            if score not in ("like", "dislike"):
                raise MalformedMessage("bad_field", f"feedback.score {score!r:.40}")
            return Feedback(event_id=require_int(obj, "event_id", "feedback"), score=score)
        if kind == "multimodal_message":
            return _multimodal_message(obj)
        if kind == "mcp_tool_approval_result":
            return McpToolApprovalResult(
                tool_call_id=require(obj, "tool_call_id", str, "mcp_tool_approval_result"),
                is_approved=require(obj, "is_approved", bool, "mcp_tool_approval_result"),
            )
        raise MalformedMessage("unknown_type", f"type {kind!r:.40}")

    def _initiation(self, obj: dict[str, Any]) -> ConversationInitiation:
        where = "conversation_initiation_client_data"
        if self.initiation is not None:
            raise MalformedMessage("duplicate_initiation", "the conversation was already initiated")
        variables = optional(obj, "dynamic_variables", dict, where) or {}
        for name, value in variables.items():
            if not isinstance(value, Scalar):
                raise MalformedMessage(
                    "bad_field", f"dynamic variable {name!r:.40} is {type(value).__name__}"
                )
        source_info = optional(obj, "source_info", dict, where) or {}
        source, version = source_info.get("source"), source_info.get("version")
        initiation = ConversationInitiation(
            dynamic_variables=dict(variables),
            overrides=optional(obj, "conversation_config_override", dict, where) or {},
            custom_llm_extra_body=optional(obj, "custom_llm_extra_body", dict, where),
            user_id=optional(obj, "user_id", str, where),
            source=source if isinstance(source, str) else None,
            source_version=version if isinstance(version, str) else None,
        )
        self.initiation = initiation
        return initiation


def _client_tool_result(obj: dict[str, Any]) -> ClientToolResult:
    result = obj.get("result")
    if result is None:
        raise MalformedMessage("missing_field", "client_tool_result has no 'result'")
    if not isinstance(result, str):
        # The Python SDK sends whatever the tool returned (conversation.py:343-348), so a dict or
        # number arrives as JSON; the JS client stringifies it first. Keep it as JSON text.
        result = json.dumps(result, separators=(",", ":"))
    return ClientToolResult(
        tool_call_id=require(obj, "tool_call_id", str, "client_tool_result"),
        result=result,
        is_error=require(obj, "is_error", bool, "client_tool_result"),
    )


def _multimodal_message(obj: dict[str, Any]) -> MultimodalMessage:
    # conversation.py:133-141: text is a nested user_message; `files` is the list, `file` the first.
    text_event = optional(obj, "text", dict, "multimodal_message")
    text = optional(text_event, "text", str, "multimodal_message.text") if text_event else None
    files = optional(obj, "files", list, "multimodal_message")
    if files is None:
        single = optional(obj, "file", dict, "multimodal_message")
        files = [single] if single is not None else []
    file_ids = []
    for file in files:
        if not isinstance(file, dict):
            raise MalformedMessage("bad_field", "multimodal_message.files holds a non-object")
        file_ids.append(require(file, "file_id", str, "multimodal_message.file"))
    return MultimodalMessage(text=text, file_ids=tuple(file_ids))
