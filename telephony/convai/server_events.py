"""ElevenLabs Agents conversation WebSocket, server side, sans-I/O: the server's messages.

Rendered as the official clients read them (sources as in `client_events`).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from app.audio.formats import format_named
from app.engine.text import clean_text

Scalar = str | int | float | bool


# ---- server -> client messages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioAlignment:
    """Character timing for an audio chunk, read by the Python SDK's `callback_audio_alignment`."""

    chars: tuple[str, ...]
    char_start_times_ms: tuple[int, ...]
    char_durations_ms: tuple[int, ...]


def _message(kind: str, key: str, event: dict[str, Any], event_id: int | None = None) -> str:
    """Compact JSON `{"type": kind, key: event}`, adding `event_id` to the event when given.

    Always sendable as a UTF-8 text frame: a lone surrogate in a text (an LLM's or a tool's JSON
    may carry one) becomes U+FFFD instead of failing the send.
    """
    if event_id is not None:
        event = {**event, "event_id": event_id}
    return clean_text(
        json.dumps({"type": kind, key: event}, separators=(",", ":"), ensure_ascii=False)
    )


def render_initiation_metadata(
    conversation_id: str,
    agent_output_audio_format: str = "pcm_16000",
    user_input_audio_format: str = "pcm_16000",
    *,
    resume_token: str | None = None,
    resume_window_s: float = 0.0,
) -> str:
    """The first message a client must receive: it waits for it before anything else.

    conversation.py:608-611 reads `conversation_id`; WebSocketConnection.ts parses both formats
    with `parseFormat` (throwing on an unknown one), so they are checked here.
    """
    format_named(agent_output_audio_format)
    format_named(user_input_audio_format)
    event: dict[str, object] = {
        "conversation_id": conversation_id,
        "agent_output_audio_format": agent_output_audio_format,
        "user_input_audio_format": user_input_audio_format,
    }
    if resume_token is not None:  # Velox's extension: how to take the conversation back
        event["velox_resume"] = {"resume_token": resume_token, "window_secs": resume_window_s}
    return _message(
        "conversation_initiation_metadata", "conversation_initiation_metadata_event", event
    )


def render_audio(event_id: int, pcm: bytes, alignment: AudioAlignment | None = None) -> str:
    """Agent audio in the announced output format; clients drop it if `event_id` <= an interruption.

    conversation.py:613-627 (`alignment` optional, read only when present), VoiceConversation.ts.
    """
    event: dict[str, Any] = {"audio_base_64": base64.b64encode(pcm).decode("ascii")}
    if alignment is not None:
        event["alignment"] = {
            "chars": list(alignment.chars),
            "char_start_times_ms": list(alignment.char_start_times_ms),
            "char_durations_ms": list(alignment.char_durations_ms),
        }
    return _message("audio", "audio_event", event, event_id)


def render_agent_response(text: str, *, event_id: int | None = None) -> str:
    """The agent's full reply text for the turn (conversation.py:629-632, BaseConversation.ts)."""
    return _message("agent_response", "agent_response_event", {"agent_response": text}, event_id)


def render_agent_response_correction(
    original: str, corrected: str, *, event_id: int | None = None
) -> str:
    """The reply as actually heard after a barge-in cut it short (conversation.py:645-650)."""
    event = {"original_agent_response": original, "corrected_agent_response": corrected}
    return _message("agent_response_correction", "agent_response_correction_event", event, event_id)


def render_agent_chat_response_part(
    text: str, part_type: Literal["start", "delta", "stop"], *, event_id: int | None = None
) -> str:
    """One streamed piece of a text-mode reply (conversation.py:634-643; asyncapi)."""
    part = {"text": text, "type": part_type}
    return _message("agent_chat_response_part", "text_response_part", part, event_id)


def render_internal_tentative_agent_response(text: str) -> str:
    """A not-yet-final agent reply; the JS client passes it to `onDebug` (BaseConversation.ts)."""
    return _message(
        "internal_tentative_agent_response",
        "tentative_agent_response_internal_event",
        {"tentative_agent_response": text},
    )


def render_user_transcript(text: str, *, event_id: int | None = None) -> str:
    """The caller's final transcript for a turn (conversation.py:652-655, BaseConversation.ts)."""
    event = {"user_transcript": text}
    return _message("user_transcript", "user_transcription_event", event, event_id)


def render_interruption(event_id: int) -> str:
    """Barge-in: clients stop playback and drop audio whose `event_id` is <= this one.

    conversation.py:657-660 (and its audio filter at 615), VoiceConversation.ts.
    """
    return _message("interruption", "interruption_event", {}, event_id)


def render_ping(event_id: int, ping_ms: int | None = None) -> str:
    """A keep-alive the client answers with `pong`; `ping_ms` is the last measured round trip.

    `ping_ms` is always present, null when unknown: conversation.py:665 indexes it directly, so a
    ping without the key ends a Python SDK session that has a latency callback.
    """
    return _message("ping", "ping_event", {"event_id": event_id, "ping_ms": ping_ms})


def render_vad_score(score: float) -> str:
    """Probability (0 to 1) that the caller is speaking (JS `onVadScore`; asyncapi VADScoreData)."""
    if not (isinstance(score, int | float) and math.isfinite(score) and 0.0 <= score <= 1.0):
        raise ValueError(f"a VAD score is a probability between 0 and 1, got {score!r}")
    return _message("vad_score", "vad_score_event", {"vad_score": score})


def render_client_tool_call(
    tool_name: str, tool_call_id: str, parameters: dict[str, Any], *, event_id: int | None = None
) -> str:
    """Ask the client to run one of its tools; it answers with `client_tool_result`.

    conversation.py:668-672 merges `tool_call_id` into the parameters (so a parameter of that
    name is shadowed); BaseConversation.ts `handleClientToolCall`.
    """
    call = {"tool_name": tool_name, "tool_call_id": tool_call_id, "parameters": parameters}
    return _message("client_tool_call", "client_tool_call", call, event_id)


# 1013 (RFC 6455's "try again later"): the node is shutting down, or the organization is at
# its cap of calls or over its rate (app/limits/).
ERROR_CLOSE_CODES = frozenset({1000, 1002, 1008, 1011, 1013})


def render_error(message: str, code: int = 1011, error_type: str | None = None) -> str:
    """The error sent just before closing with the same WebSocket `code` (asyncapi ErrorPayload).

    Codes: 1000 normal end, 1002 operational failure, 1008 bad client input, 1011 internal error,
    1013 try again later.
    """
    if code not in ERROR_CLOSE_CODES:
        raise ValueError(f"error code {code} is not one of {sorted(ERROR_CLOSE_CODES)}")
    event: dict[str, Any] = {"code": code, "message": message}
    if error_type is not None:
        event["error_type"] = error_type
    return _message("error", "error_event", event)


# ---- Velox's own messages (the official clients ignore types they do not know) ------------------

TURN_METRIC_KEYS = (
    "end_of_speech_to_endpoint_ms",
    "stt_final_ms",
    "llm_first_token_ms",
    "tts_first_byte_ms",
    "voice_to_voice_ms",
)


def render_turn_metrics(metrics: dict[str, Any], *, interrupted: bool) -> str:
    """Velox-only: one exchange's latencies, sent once the agent's answer is logged.

    The JS client hands an unknown type to `onIncomingEvent` and `onDebug`; the Python SDK's
    message loop passes over it (conversation.py:673). Figures are milliseconds, null when the
    turn had no such stage; `voice_to_voice_ms` runs from the end of the caller's speech to
    the answer's first audio sent.
    """
    event: dict[str, Any] = {key: _milliseconds(metrics.get(key)) for key in TURN_METRIC_KEYS}
    event["interrupted"] = interrupted
    return _message("velox_turn_metrics", "velox_turn_metrics_event", event)


def _milliseconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
