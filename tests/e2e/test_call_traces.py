"""A Twilio-protocol call's trace, caught by OpenTelemetry's in-memory exporter: one `call` span,
a `turn` span per exchange with its stages as children, the call's `traceparent` saved with it,
and the webhook delivery and the post-call analysis that follow linked to the call's span."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

from app.config.agent import AgentConfig
from app.config.credentials import CredentialBox
from app.db import analyses as analysis_rows
from app.db import calls as call_queries
from app.db import webhooks as webhook_rows
from app.db.models import utc_now
from app.db.session import Database
from app.observability.tracing import traceparent, use_provider
from tests.audio_samples import speech_like
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.integration.dialer_service import webhook_receiver
from tests.twilio_caller import TwilioCaller
from workers import analysis as analysis_worker
from workers import webhooks as webhook_worker

pytestmark = pytest.mark.e2e

STAGES = ["stt.final", "llm.first_token", "tts.first_byte", "playout"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_provider(provider)
    try:
        yield exporter
    finally:
        use_provider(NoOpTracerProvider())
        provider.shutdown()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = "Hi, thanks for calling Acme."
    stt = ScriptedSpeechToText(["What are your opening hours?"])
    llm = ScriptedLanguageModel(lambda _messages: "We open at nine on weekdays.")
    with voice_service(
        tmp_path, config=config, stt=stt, llm=llm, tts=ToneTextToSpeech()
    ) as running:
        yield running


async def one_exchange(service: VoiceService) -> str:
    """Dial, hear the greeting, ask one question, hear the answer, hang up; the call's id."""
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=5)
        await caller.wait_until_quiet(silence_s=0.3, timeout=8)
        heard = len(caller.media)
        await caller.play(speech_like(1.0))
        listening = asyncio.create_task(caller.silence(3.0))
        await caller.wait_for(lambda: len(caller.media) > heard, timeout=5)
        await listening
    conversation_id = parameters["conversation_id"]
    ended = await asyncio.to_thread(service.ended_conversation, conversation_id)
    assert ended["status"] == "done", ended
    return conversation_id


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return sorted((s for s in spans if s.name == name), key=lambda s: s.start_time or 0)


def a_webhook_endpoint(service: VoiceService, url: str) -> None:
    box = CredentialBox(service.settings.signing_secret())
    with service.database.session() as session:
        webhook_rows.create_endpoint(
            session,
            service.organization_id,
            name="crm",
            url=url,
            encrypted_secret=box.encrypt("whsec_trace_test_0123456789"),
            request_headers={},
            events=["call_ended"],
        )


async def test_a_call_is_traced_and_its_webhook_and_analysis_link_to_it(
    service: VoiceService, spans: InMemorySpanExporter
) -> None:
    with webhook_receiver(failures=0) as receiver:
        a_webhook_endpoint(service, receiver.url)
        conversation_id = await one_exchange(service)

        # The call: one span, ended, with who and what it was.
        finished = spans.get_finished_spans()
        (call,) = named(finished, "call")
        assert call.parent is None
        assert call.attributes is not None
        assert call.attributes["velox.conversation_id"] == conversation_id
        assert call.attributes["velox.organization_id"] == service.organization_id
        assert call.attributes["velox.agent_id"] == service.agent_id
        assert call.attributes["velox.channel"] == "twilio"
        assert call.attributes["velox.termination_reason"]

        # The greeting and the answer: a turn each, children of the call, in order.
        turns = named(finished, "turn")
        assert len(turns) >= 2, [s.name for s in finished]
        call_span = call.get_span_context()
        for turn in turns:
            assert turn.parent is not None
            assert turn.parent.span_id == call_span.span_id
            assert turn.context is not None
            assert turn.context.trace_id == call_span.trace_id
            assert call.start_time is not None
            assert call.end_time is not None
            assert turn.start_time is not None
            assert turn.end_time is not None
            assert call.start_time <= turn.start_time <= turn.end_time <= call.end_time
        assert turns[0].attributes is not None
        assert turns[0].attributes["velox.turn.source"] == "greeting"

        # The answer's stages under its turn, in the order a voice agent goes through them.
        answer = next(
            t for t in turns if t.attributes and t.attributes["velox.turn.source"] == "voice"
        )
        assert answer.context is not None
        stages = [s for s in finished if s.parent and s.parent.span_id == answer.context.span_id]
        stages.sort(key=lambda s: s.start_time or 0)
        assert [s.name for s in stages] == STAGES
        for earlier, later in itertools.pairwise(stages):
            assert earlier.end_time is not None
            assert later.end_time is not None
            assert earlier.end_time <= later.end_time
        playout = stages[-1]
        assert answer.end_time == playout.end_time
        # The caller's turn was taken as over after their speech ended, before the answer.
        (endpoint,) = [e for e in answer.events if e.name == "endpoint"]
        assert stages[0].start_time is not None
        assert stages[0].start_time <= endpoint.timestamp <= (stages[1].start_time or 0)

        # The call's traceparent is saved with it and carried by its webhook.
        expected = traceparent(call_span)
        with service.database.session() as session:
            saved = call_queries.get_call(session, service.organization_id, conversation_id)
            assert saved is not None
            assert saved.metrics["traceparent"] == expected
        spans.clear()
        box = CredentialBox(service.settings.signing_secret())
        delivered, _ = await asyncio.to_thread(deliver_one, service.database, box)
        assert delivered == 200
        (body, headers, _), *_ = receiver.received
        assert f'"traceparent":"{expected}"' in body

    (delivery,) = named(spans.get_finished_spans(), "webhook.delivery")
    assert [link.context.span_id for link in delivery.links] == [call_span.span_id]
    assert [link.context.trace_id for link in delivery.links] == [call_span.trace_id]
    # The receiver is told the delivery's own span, to continue the trace on its side.
    assert delivery.context is not None
    assert headers["traceparent"] == traceparent(delivery.context)

    # The analysis worker's span links to the call too (whatever its model answers).
    spans.clear()
    outcome = await asyncio.to_thread(analyse_one, service)
    assert outcome in ("done", "retried", "failed")
    (analysis,) = named(spans.get_finished_spans(), "analysis")
    assert [link.context.span_id for link in analysis.links] == [call_span.span_id]
    assert analysis.attributes is not None
    assert analysis.attributes["velox.conversation_id"] == conversation_id


def deliver_one(database: Database, box: CredentialBox) -> tuple[int | None, str]:
    """The webhook worker's send of the next queued delivery, as its task makes it (its
    receiver is on this machine)."""
    with database.session() as session:
        claimed = webhook_rows.claim_next(session, utc_now(), timedelta(seconds=60))
        assert claimed is not None, "the call_ended webhook was not queued"
        send = webhook_worker._Send.of(*claimed)
    with httpx.Client(timeout=10) as client:
        return webhook_worker._traced_post(client, box, send, True)


def analyse_one(service: VoiceService) -> str:
    with service.database.session() as session:
        claimed = analysis_rows.claim_next(session, utc_now(), timedelta(seconds=120))
    assert claimed is not None, "the call's analysis was not queued"
    deadline = time.monotonic() + 30
    return analysis_worker._analyse(service.database, service.settings, claimed, deadline)
