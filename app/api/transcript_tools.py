"""A transcript item's `tool_calls` and `tool_results` in ElevenLabs' shapes (the conversation
API), as the engine recorded them on the turn."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class WebhookCallDetails(BaseModel):
    """What a webhook tool was sent (never its headers: they may carry secrets)."""

    model_config = ConfigDict(extra="allow")

    type: str = "webhook"
    method: str
    url: str
    path_params: dict[str, str] | None = None
    query_params: dict[str, str] | None = None
    body: str | None = None


class TranscriptToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str | None = None  # webhook, client or system
    request_id: str
    tool_name: str
    params_as_json: str
    tool_has_been_called: bool
    tool_details: WebhookCallDetails | None = None


class DynamicVariableUpdate(BaseModel):
    variable_name: str
    old_value: str | None = None
    new_value: str
    updated_at: float
    tool_name: str
    tool_request_id: str


class TranscriptToolResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str | None = None
    request_id: str
    tool_name: str
    result_value: str
    is_error: bool
    tool_has_been_called: bool
    tool_latency_secs: float | None = None
    error_type: str | None = None
    dynamic_variable_updates: list[DynamicVariableUpdate] | None = None


def tool_calls(stored: list[dict[str, Any]] | None) -> list[TranscriptToolCall]:
    return [TranscriptToolCall.model_validate(item) for item in stored or []]


def tool_results(stored: list[dict[str, Any]] | None) -> list[TranscriptToolResult]:
    return [TranscriptToolResult.model_validate(item) for item in stored or []]
