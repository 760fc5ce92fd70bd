"""Secrets kept out of logs, stored provider errors and API output.

Two nets: every secret this process has decrypted or was configured with is remembered and
replaced wherever it appears (a provider that echoes the request's key in its error body, say);
and text shaped like a credential (`xi-api-key: …`, `Authorization: Bearer …`, `api_key=…`,
the key formats of the providers Velox talks to) has its value replaced even when the secret
was never seen here. Log records are redacted as they are made (see `redact_log_records`), a
provider error's message when it is raised, and a call's events when it is saved.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
# Shorter strings are too likely to be ordinary words to replace wherever they occur.
MIN_SECRET_LENGTH = 8

_known: set[str] = set()
_known_lock = threading.Lock()
_known_pattern: re.Pattern[str] | None = None

_SHAPES = re.compile(
    r"(?i)"
    # name: value / name=value / "name": "value" for header and field names that hold secrets
    r"((?:xi-api-key|x-api-key|api[_-]?key|authorization|cartesia-api-key|auth[_-]?token"
    r"|access[_-]?token|secret|password|token)[\"']?\s*[:=]\s*[\"']?)"
    r"((?:bearer|basic|token)\s+)?"
    r"([^\s\"',;}&]+)"
    # bare keys in the formats of the providers Velox talks to, and Velox's own
    r"|\b(?:gsk_|sk-|sk_|vx_|xai-|AC[0-9a-f]{32}:)[A-Za-z0-9_\-]{12,}"
    r"|\bBearer\s+[A-Za-z0-9._~+/\-]{12,}=*"
)


def remember_secret(secret: str | None) -> None:
    """From now on `secret` is redacted wherever it appears in this process."""
    global _known_pattern
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return
    with _known_lock:
        if secret in _known:
            return
        _known.add(secret)
        ordered = sorted(_known, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def remember_secrets(secrets: Iterable[str | None]) -> None:
    for secret in secrets:
        remember_secret(secret)


def _shape(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1) + (match.group(2) or "") + REDACTED
    return REDACTED


def redact(text: str) -> str:
    """`text` with every remembered secret and every credential-shaped value replaced."""
    pattern = _known_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return _SHAPES.sub(_shape, text)


def redact_value(value: Any) -> Any:
    """`value` with every string in it (dicts, lists) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value


_installed = False


def _redact_message(record: logging.LogRecord, message: str) -> None:
    """Redact the record's message, keeping its arguments apart where that redacts it as
    well: formatters that read them (uvicorn's access log reads its five) go on working."""
    clean = redact(message)
    if clean == message:
        return
    if isinstance(record.msg, str) and isinstance(record.args, tuple):
        template = redact(record.msg)
        arguments = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        try:
            kept = template % arguments == clean
        except (TypeError, ValueError):
            kept = False
        if kept:
            record.msg, record.args = template, arguments
            return
    record.msg, record.args = clean, None


def redact_log_records() -> None:
    """Every log record made from now on carries its message already redacted (any logger,
    any handler: the websockets client's DEBUG lines with request headers included)."""
    global _installed
    with _known_lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if isinstance(record.msg, dict):
            # structlog's event dict on its way to its formatter (app/observability/logs.py):
            # redacted as a dict, which that formatter needs it to stay.
            record.msg = redact_value(record.msg)
            return record
        try:
            message = record.getMessage()
        except Exception:  # a record whose own formatting fails is left for logging to report
            return record
        _redact_message(record, message)
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacted_record)
