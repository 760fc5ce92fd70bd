"""Post-call analysis by a real Celery worker process on PostgreSQL and Redis: the agent's
model is Groq, reached through the real `groq` SDK at a local double of Groq's API; the result
is read back through the ElevenLabs SDK and delivered, signed, to a webhook receiver."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from elevenlabs import ElevenLabs

from app.calls.store import save_record
from app.config.agent import AgentConfig
from app.config.credentials import CredentialBox
from app.db import agents as agent_queries
from app.db import calls as call_queries
from app.db import provider_credentials
from app.db.session import Database
from app.engine.record import CallRecord, TurnRecord
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript, server_error
from tests.integration.dialer_service import Dialer, webhook_receiver

pytestmark = pytest.mark.integration

GROQ_KEY = "gsk_analysis_test_key"
CALLER = "+14155552671"
ANALYSIS = "workers.analysis.analyze"
REPLY = {
    "summary": "The caller asked for a demo on Friday and then asked not to be called again.",
    "title": "Demo request",
    "sentiment": "neutral",
    "outcome": "interested",
    "call_successful": "success",
    "data": {"best_day": "Friday"},
}


def groq_agent(dialer: Dialer, groq: GroqChatDouble) -> str:
    """An agent whose answers (and so its analyses) come from Groq, with no fallback."""
    config = AgentConfig.model_validate(
        {
            "name": "Rep",
            "platform_settings": {
                "data_collection": {
                    "best_day": {"type": "string", "description": "the day they can talk"}
                }
            },
            "velox": {"providers": {"llm": "groq"}, "fallbacks": {"llm": []}},
        }
    )
    database = Database(dialer.settings.database_url)
    with database.session() as session:
        existing = agent_queries.get_agent_for_call(session, dialer.agent_id)
        assert existing is not None
        org = existing.organization_id
        agent = agent_queries.create_agent(session, org, config)
        box = CredentialBox(dialer.settings.signing_secret())
        provider_credentials.set_key(session, org, "groq", box.encrypt(GROQ_KEY))
        agent_id = agent.id
    database.dispose()
    dialer.settings = dialer.settings.model_copy(
        update={"groq_base_url": groq.base_url, "analysis_retry_base_s": 0.2}
    )
    return agent_id


def a_finished_call(dialer: Dialer, agent_id: str, said: str) -> str:
    """A call as the engine saves it when it ends."""
    database = Database(dialer.settings.database_url)
    with database.session() as session:
        agent = agent_queries.get_agent_for_call(session, agent_id)
        assert agent is not None
        call = call_queries.create_call(
            session,
            agent.organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel="twilio",
            from_number=CALLER,
            to_number="+12125550100",
        )
        record = CallRecord.opened(call.id, agent.organization_id, agent_id)
        record.ended_at = record.started_at + timedelta(seconds=30)
        record.turns = [
            TurnRecord("agent", "Hello! How can I help?", 0, metrics={"speech_ms": 1800}),
            TurnRecord("user", said, 2500, metrics={"speech_ms": 3000, "voice_to_voice_ms": 640}),
            TurnRecord("agent", "Understood. Goodbye.", 6200, metrics={"speech_ms": 1500}),
        ]
        save_record(session, record)
        call_id = call.id
    database.dispose()
    return call_id


def test_a_worker_analyses_a_call_with_the_agents_model_and_tells_the_business(
    dialer: Dialer,
) -> None:
    client = ElevenLabs(api_key=dialer.api_key, base_url=dialer.base_url)
    with (
        GroqChatDouble(GROQ_KEY, GroqScript(text=[json.dumps(REPLY)])) as groq,
        webhook_receiver(failures=0) as receiver,
    ):
        agent_id = groq_agent(dialer, groq)
        hook = client.webhooks.create(
            settings={"auth_type": "hmac", "name": "CRM", "webhook_url": receiver.url}
        )
        call_id = a_finished_call(
            dialer, agent_id, "Friday works for a demo. Actually, please remove me from your list."
        )
        dialer.start_workers(1)
        counts = dialer.celery.send_task(ANALYSIS).get(timeout=60)
        assert counts == {"done": 1, "retried": 0, "failed": 0, "lost": 0}, dialer.worker_logs()
        dialer.celery.send_task("workers.webhooks.deliver").get(timeout=30)

    [request] = groq.requests
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.body["stream"] is False
    assert "Caller: Friday works for a demo." in request.body["messages"][1]["content"]

    conversation = client.conversational_ai.conversations.get(call_id)
    assert conversation.analysis is not None
    assert conversation.analysis.transcript_summary == REPLY["summary"]
    assert conversation.analysis.call_successful == "success"
    assert conversation.analysis.data_collection_results["best_day"].value == "Friday"
    body = dialer.api("GET", f"/v1/convai/conversations/{call_id}").json()
    velox = body["analysis"]["velox"]
    # The model said "interested"; the caller's "remove me" overrules it.
    assert (velox["outcome"], velox["analyzed_by"]) == ("do_not_call", "groq")
    assert velox["metrics"]["talk_ratio"] == {"agent": 0.524, "user": 0.476}
    assert velox["metrics"]["voice_to_voice_ms"]["p95"] == 640.0
    assert body["velox"]["analysis_status"] == "done"
    listed = dialer.api("GET", "/v1/convai/conversations").json()
    assert listed["conversations"][0]["call_successful"] == "success"
    do_not_call = dialer.api("GET", "/v1/do-not-call").json()
    assert CALLER in [entry["phone_number"] for entry in do_not_call]

    events = [
        client.webhooks.construct_event(body, headers["ElevenLabs-Signature"], hook.webhook_secret)
        for body, headers, _ in receiver.received
    ]
    [ready] = [e for e in events if e["type"] == "analysis_ready"]
    assert ready["data"]["conversation_id"] == call_id
    assert ready["data"]["analysis"]["velox"]["outcome"] == "do_not_call"


def test_an_analysis_no_model_can_make_is_retried_then_kept_as_failed_with_its_metrics(
    dialer: Dialer,
) -> None:
    with GroqChatDouble(GROQ_KEY, GroqScript(refuse=server_error(503))) as groq:
        agent_id = groq_agent(dialer, groq)
        call_id = a_finished_call(dialer, agent_id, "Stop calling me.")
        dialer.start_workers(1)
        status = None
        deadline = time.monotonic() + 60
        while status != "failed" and time.monotonic() < deadline:
            dialer.celery.send_task(ANALYSIS).get(timeout=60)
            body = dialer.api("GET", f"/v1/convai/conversations/{call_id}").json()
            status = body["velox"]["analysis_status"]
            time.sleep(0.3)
    assert status == "failed", dialer.worker_logs()
    assert len(groq.requests) == 5  # every try asked Groq once
    analysis = body["analysis"]
    assert analysis["transcript_summary"] == ""
    assert analysis["velox"]["outcome"] == "do_not_call"  # the rule needs no model
    assert analysis["velox"]["metrics"]["turns"] == {"agent": 2, "user": 1}
    assert "HTTP 503" in " ".join(analysis["velox"]["notes"]["model_errors"])
    listed = dialer.api("GET", "/v1/do-not-call").json()
    assert CALLER in [entry["phone_number"] for entry in listed]
