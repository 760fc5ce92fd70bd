"""Cartesia's TTS WebSocket, sans-I/O: the server's messages parsed into typed events, and its
errors turned into `ProviderError`s with advice."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed

from app.providers.base import ProviderError

NAME = "cartesia"

_ADVICE_BY_STATUS = {
    401: "check the Cartesia API key",
    402: "the Cartesia account is out of credits; top it up",
    403: "the API key may not use this model or voice; check its permissions",
    404: "check the voice id, the model and the Cartesia base URL",
    429: "the plan's concurrency limit is reached; run fewer calls at once or raise the limit",
}


@dataclass(frozen=True, slots=True)
class Chunk:
    context_id: str
    audio: bytes


@dataclass(frozen=True, slots=True)
class FlushDone:
    """Every chunk of the flushed input has been sent."""

    context_id: str
    flush_id: int | None


@dataclass(frozen=True, slots=True)
class Done:
    context_id: str


@dataclass(frozen=True, slots=True)
class ServiceError:
    context_id: str | None
    status: int | None
    message: str


CartesiaEvent = Chunk | FlushDone | Done | ServiceError


class MalformedMessageError(ValueError):
    """A server message that is not the JSON Cartesia documents."""


def parse_server_message(raw: str | bytes) -> CartesiaEvent | None:
    """One server message as an event; None for timestamps and other messages we do not use."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedMessageError(f"not JSON: {raw[:80]!r}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MalformedMessageError(f"no message type: {raw[:80]!r}")
    kind = message["type"]
    context_id = message.get("context_id")
    if kind == "error":
        status = message.get("status_code")
        text = message.get("message") or message.get("error") or message.get("title") or kind
        return ServiceError(
            context_id if isinstance(context_id, str) else None,
            status if isinstance(status, int) else None,
            str(text),
        )
    if not isinstance(context_id, str):
        raise MalformedMessageError(f"{kind} without a context_id")
    if kind == "chunk":
        try:
            return Chunk(context_id, base64.b64decode(message["data"], validate=True))
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise MalformedMessageError("chunk data is not base64") from None
    if kind == "flush_done":
        flush_id = message.get("flush_id")
        return FlushDone(context_id, flush_id if isinstance(flush_id, int) else None)
    if kind == "done":
        return Done(context_id)
    return None


def failure(message: str, status: int | None) -> ProviderError:
    advice = _ADVICE_BY_STATUS.get(status or 0)
    if advice is None and status is not None and status >= 500:
        advice = "Cartesia had a server error; retry shortly"
    return ProviderError(NAME, f"{message}; {advice}" if advice else message, status=status)


def connection_lost(closed: ConnectionClosed) -> ProviderError:
    code = closed.rcvd.code if closed.rcvd else 1006
    detail = (closed.rcvd.reason if closed.rcvd else "") or "no reason given"
    return failure(f"the connection closed mid-stream (code {code}): {detail}", None)


def websocket_base(base_url: str) -> str:
    """`https://host` → `wss://host` (and `http` → `ws` for local doubles)."""
    parts = urlsplit(base_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"
