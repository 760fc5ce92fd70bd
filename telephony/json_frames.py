"""Checks shared by the JSON-over-WebSocket codecs (Twilio Media Streams, ElevenLabs convai).

A frame that fails one becomes a `MalformedMessage` with a stable reason: the transport counts
it and skips it, and the call goes on.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


class MalformedMessage(Exception):  # noqa: N818 - the protocols' own word for a bad frame
    """A frame that is not a valid message of its protocol; count it and skip it.

    `reason` is a short stable code (used as the counter key), `detail` says what was wrong.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def json_object(message: str | bytes, protocol: str) -> dict[str, Any]:
    """The frame's top-level JSON object: binary frames, bad JSON and non-objects are refused."""
    if not isinstance(message, str):
        raise MalformedMessage("binary_frame", f"{protocol} frames are JSON text")
    try:
        obj = json.loads(message)
    except (ValueError, RecursionError) as error:
        raise MalformedMessage("bad_json", str(error)[:80]) from None
    if not isinstance(obj, dict):
        raise MalformedMessage("not_an_object", f"top level is {type(obj).__name__}")
    return obj


def require(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise MalformedMessage("missing_field", f"{where} has no {key!r}")
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise MalformedMessage(
            "bad_field", f"{where}.{key} should be {kind.__name__}, got {type(value).__name__}"
        )
    return value


def optional(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    return None if obj.get(key) is None else require(obj, key, kind, where)


def require_int(obj: dict[str, Any], key: str, where: str) -> int:
    """An integer, also when sent as decimal text (Twilio's "chunk": "1", echoed event ids)."""
    value = obj.get(key)
    if value is None:
        raise MalformedMessage("missing_field", f"{where} has no {key!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    raise MalformedMessage("bad_field", f"{where}.{key} should be an integer, got {value!r:.40}")


def decode_base64(payload: str) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedMessage("bad_base64", str(error)[:80]) from None
