"""Velox's log lines: JSON with timestamp, level, logger and event; the call's ids carried into
the tasks it starts; secrets redacted and phone numbers masked in every field; the console
format for a terminal; and the W3C `traceparent` read and written exactly."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.trace import SpanContext, TraceFlags

from app.config.redaction import remember_secret
from app.observability.logs import (
    bind_call,
    configure_logging,
    mask_phone,
    mask_phones_in_text,
    unbind_call,
    uses_console,
)
from app.observability.tracing import otlp_endpoint, parse_traceparent, traceparent

pytestmark = pytest.mark.unit

SECRET = "sk-unit-test-secret-0123456789"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    kept = (list(root.handlers), root.level)
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", buffer)
    try:
        yield buffer
    finally:
        unbind_call()
        root.handlers[:], root.level = kept


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_every_line_is_json_with_its_fields(logs: io.StringIO) -> None:
    logging.getLogger("app.some.room").info("hello %s", "world")
    structlog.get_logger("app.native").warning("native", figure=3)
    plain, native = lines(logs)
    assert plain["event"] == "hello world"
    assert plain["level"] == "info"
    assert plain["logger"] == "app.some.room"
    assert str(plain["timestamp"]).endswith("Z")
    assert native["event"] == "native"
    assert native["figure"] == 3
    assert native["level"] == "warning"


def test_a_calls_ids_reach_the_tasks_it_starts_and_no_other(logs: io.StringIO) -> None:
    async def call() -> None:
        bind_call("conv_1", "org_1", "ab" * 16)
        logging.getLogger("app.engine").info("in the call")
        await asyncio.create_task(inner())

    async def inner() -> None:
        logging.getLogger("app.engine").info("in a task of the call")

    async def other() -> None:
        logging.getLogger("app.engine").info("elsewhere")

    async def both() -> None:
        await asyncio.gather(call(), other())

    asyncio.run(both())
    found = {str(line["event"]): line for line in lines(logs)}
    for event in ("in the call", "in a task of the call"):
        assert found[event]["conversation_id"] == "conv_1"
        assert found[event]["organization_id"] == "org_1"
        assert found[event]["trace_id"] == "ab" * 16
    assert "conversation_id" not in found["elsewhere"]


def test_secrets_are_redacted_in_the_message_the_fields_and_the_exception(
    logs: io.StringIO,
) -> None:
    remember_secret(SECRET)
    log = logging.getLogger("app.providers")
    log.warning("key %s refused", SECRET, extra={"request": {"headers": {"key": SECRET}}})
    structlog.get_logger("app.native").error("echo", body=f"Authorization: Bearer {SECRET}")
    try:
        raise RuntimeError(f"provider said {SECRET}")
    except RuntimeError:
        log.exception("failed")
    text = logs.getvalue()
    assert SECRET not in text
    assert text.count("[redacted]") >= 4


def test_phone_numbers_are_masked_to_their_last_four_digits(logs: io.StringIO) -> None:
    logging.getLogger("telephony").info(
        "call from +1 (415) 555-2671 to sip:14155550123@trunk.example",
        extra={
            "from_number": "+14155552671",
            "to_number": "4155550123",
            "call_sid": "CA" + "1" * 32,
        },
    )
    (line,) = lines(logs)
    assert line["event"] == "call from +* (***) ***-2671 to sip:*******0123@trunk.example"
    assert line["from_number"] == "+*******2671"
    assert line["to_number"] == "******0123"
    # Ids and figures are not phone numbers.
    assert line["call_sid"] == "CA" + "1" * 32


def test_masking_leaves_short_numbers_and_plain_digits() -> None:
    assert mask_phone("1234") == "1234"
    assert mask_phones_in_text("took 12345678 ms, id 20260101") == "took 12345678 ms, id 20260101"
    assert mask_phones_in_text("+442071838750") == "+********8750"


def test_the_console_format_for_a_terminal_json_otherwise() -> None:
    assert uses_console("auto", Terminal())
    assert not uses_console("auto", io.StringIO())
    assert uses_console("console", io.StringIO())
    assert not uses_console("json", Terminal())
    with pytest.raises(ValueError, match="VELOX_LOG_FORMAT"):
        uses_console("xml", io.StringIO())
    root = logging.getLogger()
    kept = (list(root.handlers), root.level)
    terminal = Terminal()
    try:
        configure_logging("INFO", "auto", terminal)
        logging.getLogger("app.x").info("for a person +15551234567")
    finally:
        root.handlers[:], root.level = kept
    text = terminal.getvalue()
    assert "for a person +*******4567" in text
    assert not text.lstrip().startswith("{")


def test_traceparent_round_trip_and_refusals() -> None:
    context = SpanContext(0xABC, 0x123, is_remote=False, trace_flags=TraceFlags(1))
    written = traceparent(context)
    assert written == f"00-{0xABC:032x}-{0x123:016x}-01"
    read = parse_traceparent(written)
    assert read is not None
    assert (read.trace_id, read.span_id, read.is_remote) == (0xABC, 0x123, True)
    for bad in (None, 7, "", "00-xyz", f"00-{0:032x}-{0x123:016x}-01", "01-" + written[3:]):
        assert parse_traceparent(bad) is None


def test_spans_are_exported_only_when_an_endpoint_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert otlp_endpoint("") is None
    assert otlp_endpoint("http://collector:4318/") == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318")
    assert otlp_endpoint("") == "http://otel:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://otel:4318/custom")
    assert otlp_endpoint("") == "http://otel:4318/custom"
    assert otlp_endpoint("http://velox-set:4318") == "http://velox-set:4318/v1/traces"
