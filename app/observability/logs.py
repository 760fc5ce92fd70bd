"""Velox's logs: one JSON object a line (a readable console format for a person at a terminal).

`configure_logging` runs once at the start of each process (`velox serve` and its worker
processes, `velox worker`, the recording writer). Everything logs through the standard library's
`logging` as before; the root handler renders each record through structlog's processors:

- `timestamp` (UTC, ISO 8601), `level`, `logger`, `event` (the message), `exception` if any;
- the context a call bound when it started (`bind_call`: `conversation_id`, `organization_id`,
  `trace_id`), carried by contextvars into every task the call starts;
- no secrets: every string passes through `app.config.redaction.redact` (configured keys,
  decrypted secrets and credential-shaped text), after the record factory already redacted
  the message;
- phone numbers masked to their last four digits (`mask_phone_numbers`).

`VELOX_LOG_FORMAT`: `json`, `console`, or `auto` (the default: console when standard error is
a terminal, JSON otherwise).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.contextvars import bind_contextvars, merge_contextvars, unbind_contextvars
from structlog.typing import EventDict, Processor

from app.config.redaction import redact, redact_log_records

LOG_FORMATS = ("auto", "json", "console")
CALL_KEYS = ("conversation_id", "organization_id", "trace_id")

# Fields that hold a phone number whole: masked whatever their shape.
_PHONE_FIELDS = frozenset(
    {"from_number", "to_number", "caller_number", "called_number", "phone_number", "number"}
)
# A phone number inside text: E.164 (`+15551234567`), or a SIP URI's user part of 7+ digits
# (`sip:15551234567@…`, `tel:…`). Bare digit runs are left alone: ids, times and sizes are too.
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])\+\d[\d\-. ()]{5,18}\d|(?<=sip:)\d{7,15}|(?<=tel:)\d{7,15}")
_DIGIT = re.compile(r"\d")


def mask_phone(number: str) -> str:
    """`number` with every digit but the last four replaced by `*` (separators kept)."""
    digits = sum(c.isdigit() for c in number)
    hide = max(0, digits - 4)
    out: list[str] = []
    for char in number:
        if char.isdigit() and hide > 0:
            out.append("*")
            hide -= 1
        else:
            out.append(char)
    return "".join(out)


def mask_phones_in_text(text: str) -> str:
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


def _clean(key: str, value: Any) -> Any:
    if isinstance(value, str):
        value = redact(value)
        if key in _PHONE_FIELDS and _DIGIT.search(value):
            return mask_phone(value)
        return mask_phones_in_text(value)
    if isinstance(value, Mapping):
        return {k: _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(key, v) for v in value]
    return value


def clean_event(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: secrets redacted and phone numbers masked in every field."""
    for key, value in list(event_dict.items()):
        if key != "timestamp":
            event_dict[key] = _clean(key, value)
    return event_dict


def _drop_color_message(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    # uvicorn puts a colored copy of its message in `extra`; the plain one is the event.
    event_dict.pop("color_message", None)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def uses_console(log_format: str, stream: TextIO) -> bool:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"VELOX_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())
    return log_format == "console"


def configure_logging(
    level: str = "INFO", log_format: str | None = None, stream: TextIO | None = None
) -> None:
    """Route every log record of this process through structlog to `stream` (standard error).

    Replaces the root logger's handlers; safe to call again (the last call wins)."""
    stream = stream or sys.stderr
    log_format = (log_format or os.environ.get("VELOX_LOG_FORMAT") or "auto").lower()
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if uses_console(log_format, stream)
        else structlog.processors.JSONRenderer()
    )
    redact_log_records()
    shared = _shared_processors()
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            clean_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # Python's warnings become log lines too
    # uvicorn's and celery's own loggers propagate to this one handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True


def bind_call(conversation_id: str, organization_id: str, trace_id: str | None) -> None:
    """From here on, in this task and the tasks it starts, log lines name the call."""
    bound: MutableMapping[str, Any] = {
        "conversation_id": conversation_id,
        "organization_id": organization_id,
    }
    if trace_id:
        bound["trace_id"] = trace_id
    bind_contextvars(**bound)


def unbind_call() -> None:
    unbind_contextvars(*CALL_KEYS)
