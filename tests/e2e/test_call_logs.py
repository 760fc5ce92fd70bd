"""A full test call's logs, as `velox serve` writes them (JSON lines through structlog, DEBUG):
every line is a JSON object with its timestamp, level, logger and event; the call's lines name
its conversation, organization and trace; no configured secret appears anywhere in them (provider
keys, the webhook's signing secret, the API key, Twilio's auth token, the service's secret),
even with a provider echoing its key in an error and clients logging request headers at DEBUG;
and the caller's phone number appears only masked."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.trace import NoOpTracerProvider

from app.config.credentials import CredentialBox
from app.db import calls as call_queries
from app.db import webhooks as webhook_rows
from app.observability.logs import configure_logging
from app.observability.tracing import configure_tracing, parse_traceparent, use_provider
from tests.e2e.test_call_traces import deliver_one
from tests.e2e.test_secrets_stay_secret import (
    GROQ_KEY,
    ask_opening_hours,
    echoing_refusal,
    leaky_service,
)
from tests.e2e.voice_service import AUTH_TOKEN, CALLER_NUMBER
from tests.fakes.cloud.elevenlabs import VALID_KEY as ELEVENLABS_KEY
from tests.fakes.cloud.elevenlabs import ElevenLabsDouble
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript
from tests.integration.dialer_service import webhook_receiver

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "whsec_logs_test_0123456789abcdef"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """This process's logs as `velox serve` configures them, into a buffer, with tracing on;
    pytest's own handlers and the no-op tracer are put back afterwards."""
    root = logging.getLogger()
    kept = (list(root.handlers), root.level)
    uvicorn = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", buffer)
    configure_tracing(enabled=True)
    try:
        yield buffer
    finally:
        use_provider(NoOpTracerProvider())
        root.handlers[:], root.level = kept[0], kept[1]
        for name, (handlers, propagate) in uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate


async def test_a_calls_logs_are_json_name_the_call_and_hold_no_secret(
    tmp_path: Path, json_logs: io.StringIO
) -> None:
    with GroqChatDouble(GROQ_KEY, GroqScript(refuse=echoing_refusal())) as groq:
        async with ElevenLabsDouble() as elevenlabs:
            with (
                webhook_receiver(failures=0) as receiver,
                leaky_service(tmp_path, groq, elevenlabs) as service,
            ):
                box = CredentialBox(service.settings.signing_secret())
                with service.database.session() as session:
                    webhook_rows.create_endpoint(
                        session,
                        service.organization_id,
                        name="crm",
                        url=receiver.url,
                        encrypted_secret=box.encrypt(WEBHOOK_SECRET),
                        request_headers={},
                        events=["call_ended"],
                    )
                conversation_id = (await ask_opening_hours(service))["conversation_id"]
                sent, error = await asyncio.to_thread(deliver_one, service.database, box)
                assert sent == 200, error
                with service.database.session() as session:
                    call = call_queries.get_call(session, service.organization_id, conversation_id)
                    assert call is not None
                    call_trace = parse_traceparent(call.metrics.get("traceparent"))
                secrets = {
                    "groq key": GROQ_KEY,
                    "elevenlabs key": ELEVENLABS_KEY,
                    "webhook secret": WEBHOOK_SECRET,
                    "api key": service.api_key,
                    "twilio auth token": AUTH_TOKEN,
                    "service secret": service.settings.signing_secret().hex(),
                }
                organization_id = service.organization_id

    assert groq.requests, "the call never reached the provider whose key is at stake"
    assert receiver.received, "the webhook was never signed and sent"
    assert call_trace is not None, "the call's trace was not saved with it"
    text = json_logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len(lines) > 20, text[:2000]
    for line in lines:
        assert {"timestamp", "level", "logger", "event"} <= line.keys(), line

    for name, secret in secrets.items():
        assert secret not in text, f"the {name} is in the logs"
    assert "[redacted]" in text  # the provider's echo was logged, without its key
    assert CALLER_NUMBER not in text
    assert CALLER_NUMBER[1:] not in text

    trace_id = f"{call_trace.trace_id:032x}"
    of_the_call = [line for line in lines if line.get("conversation_id") == conversation_id]
    assert of_the_call, "no log line names the call"
    for line in of_the_call:
        assert line["organization_id"] == organization_id, line
        assert line["trace_id"] == trace_id, line
    # The call's own work logged from its tasks (the engine, the providers' clients), not
    # only the line that opened it.
    assert {line["logger"] for line in of_the_call} - {"app.calls.lifecycle"}, of_the_call
