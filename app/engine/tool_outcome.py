"""What one tool call came to: the text the model gets back and what the transcript records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ToolKind = Literal["webhook", "client", "system"]


@dataclass(slots=True)
class ToolOutcome:
    result: str  # what the model reads as the tool's result
    is_error: bool = False
    # False when the tool was never reached (its arguments did not fit, its URL was refused).
    called: bool = True
    error_type: str | None = None
    latency_secs: float = 0.0
    # ElevenLabs' `tool_details` of the call (a webhook's method, URL, parameters; no headers).
    details: dict[str, Any] | None = None
    variable_updates: list[dict[str, Any]] = field(default_factory=list)
    tool_id: str | None = None


def failed(
    error_type: str, message: str, *, called: bool, latency_secs: float = 0.0
) -> ToolOutcome:
    """A tool error the model is told about, so it can say what happened and go on."""
    return ToolOutcome(
        json.dumps({"error": message}),
        is_error=True,
        called=called,
        error_type=error_type,
        latency_secs=latency_secs,
    )


def from_text(result: str) -> ToolOutcome:
    """The outcome of a built-in or client tool, whose errors are `{"error": ...}` texts."""
    try:
        parsed = json.loads(result)
    except ValueError:
        return ToolOutcome(result)
    if isinstance(parsed, dict) and "error" in parsed:
        return ToolOutcome(result, is_error=True, error_type="tool_error")
    return ToolOutcome(result)
