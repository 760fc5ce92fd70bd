"""ElevenLabs text-to-speech WebSockets, sans-I/O: the server's messages parsed into typed
events, and its errors and closes turned into `ProviderError`s with advice."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.providers.base import ProviderError

NAME = "elevenlabs"

_STATUS_BY_ERROR = {
    "invalid_api_key": 401,
    "unauthorized": 401,
    "missing_permissions": 403,
    "voice_not_found": 404,
    "quota_exceeded": 429,
    "rate_limit_exceeded": 429,
    "too_many_concurrent_requests": 429,
    "max_active_conversations": 429,
    "system_busy": 503,
    "internal_error": 500,
}
_ADVICE_BY_STATUS = {
    401: "check the ElevenLabs API key",
    403: "the API key may not use this model or voice over WebSocket; check its permissions",
    404: "check the voice id and the ElevenLabs base URL",
    429: "the account's character quota or concurrency limit is reached; wait, run fewer "
    "calls at once or raise the plan's limits",
}


@dataclass(frozen=True, slots=True)
class AudioEvent:
    audio: bytes
    context_id: str | None


@dataclass(frozen=True, slots=True)
class FinalEvent:
    """`isFinal`: all audio of the context (or of the one-shot stream) has been sent."""

    context_id: str | None


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    message: str
    error: str | None


ServerEvent = AudioEvent | FinalEvent | ErrorEvent


class MalformedMessageError(ValueError):
    """A server message that is not the JSON ElevenLabs documents."""


def parse_server_message(raw: str | bytes) -> ServerEvent | None:
    """One server message as an event; None for a message with nothing to act on."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedMessageError(f"not JSON: {raw[:80]!r}") from None
    if not isinstance(message, dict):
        raise MalformedMessageError(f"not a JSON object: {raw[:80]!r}")
    context_id = message.get("contextId")
    if context_id is not None and not isinstance(context_id, str):
        raise MalformedMessageError(f"contextId is not a string: {context_id!r:.40}")
    if message.get("isFinal") is True:
        return FinalEvent(context_id)
    audio = message.get("audio")
    if isinstance(audio, str) and audio:
        try:
            return AudioEvent(base64.b64decode(audio, validate=True), context_id)
        except (binascii.Error, ValueError):
            raise MalformedMessageError("audio is not base64") from None
    if "error" in message or "message" in message:
        error = message.get("error")
        text = message.get("message") or error or "unknown error"
        return ErrorEvent(str(text), error if isinstance(error, str) else None)
    if "audio" in message and not audio:
        return None
    raise MalformedMessageError(f"unknown message: {raw[:80]!r}")


def websocket_base(base_url: str) -> str:
    """`https://host` → `wss://host` (and `http` → `ws` for local doubles)."""
    parts = urlsplit(base_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def failure(message: str, status: int | None) -> ProviderError:
    advice = _ADVICE_BY_STATUS.get(status or 0)
    if advice is None and status is not None and status >= 500:
        advice = "ElevenLabs had a server error; retry shortly"
    return ProviderError(NAME, f"{message}; {advice}" if advice else message, status=status)


def closed_failure(code: int | None, reason: str, last_error: ErrorEvent | None) -> ProviderError:
    """The error for a socket the service closed (or lost) before the audio was complete."""
    status = _STATUS_BY_ERROR.get(last_error.error or "") if last_error else None
    text = f"{reason} {last_error.message if last_error else ''}".lower()
    if status is None and ("api key" in text or "api_key" in text):
        status = 401
    elif status is None and ("quota" in text or "concurren" in text or "rate limit" in text):
        status = 429
    elif status is None and code in (1011, 1013):
        status = 500 if code == 1011 else 503
    detail = last_error.message if last_error else reason or "no reason given"
    return failure(f"the connection closed mid-stream (code {code or 1006}): {detail}", status)
