"""The official ``elevenlabs`` SDK, unmodified, manages agents and reads conversations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError

from app.calls.store import save_record
from app.db.calls import create_call
from app.db.session import Database
from app.engine.record import CallEvent, CallRecord, TurnRecord
from tests.api_app import build_api_app
from tests.live_server import free_port, serve
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def server_url(database: Database) -> Iterator[str]:
    """A real uvicorn server for the REST API on a free local port, in a background thread."""
    with serve(build_api_app(database), free_port()) as url:
        yield url


@pytest.fixture
def sdk(server_url: str, tenant_a: Tenant) -> ElevenLabs:
    return ElevenLabs(api_key=tenant_a.api_key, base_url=server_url)


def test_sdk_creates_gets_lists_updates_and_deletes_an_agent(sdk: ElevenLabs) -> None:
    created = sdk.conversational_ai.agents.create(
        name="Dental reception",
        conversation_config={"agent": {"first_message": "Smile Dental, how can I help?"}},
        tags=["inbound"],
    )

    fetched = sdk.conversational_ai.agents.get(created.agent_id)
    listed = sdk.conversational_ai.agents.list(page_size=10, search="dental")
    updated = sdk.conversational_ai.agents.update(
        created.agent_id,
        name="Dental front desk",
        conversation_config={"turn": {"turn_timeout": 5.0}},
    )
    sdk.conversational_ai.agents.delete(created.agent_id)

    assert fetched.name == "Dental reception"
    assert fetched.conversation_config.agent is not None
    assert fetched.conversation_config.agent.first_message == "Smile Dental, how can I help?"
    assert fetched.tags == ["inbound"]
    assert [agent.agent_id for agent in listed.agents] == [created.agent_id]
    assert listed.has_more is False
    assert listed.agents[0].access_info.role == "admin"
    assert updated.name == "Dental front desk"
    assert updated.conversation_config.turn is not None
    assert updated.conversation_config.turn.turn_timeout == 5.0
    assert updated.conversation_config.agent is not None
    assert updated.conversation_config.agent.first_message == "Smile Dental, how can I help?"
    with pytest.raises(ApiError) as missing:
        sdk.conversational_ai.agents.get(created.agent_id)
    assert missing.value.status_code == 404


def test_sdk_lists_and_gets_a_recorded_conversation(
    sdk: ElevenLabs, database: Database, tenant_a: Tenant
) -> None:
    agent_id = sdk.conversational_ai.agents.create(name="Billing", conversation_config={}).agent_id
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    with database.session() as session:
        call = create_call(
            session,
            tenant_a.organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel="twilio",
            from_number="+15550001111",
            to_number="+15550002222",
            provider_call_sid="CA0001",
        )
        save_record(
            session,
            CallRecord(
                call_id=call.id,
                organization_id=tenant_a.organization_id,
                agent_id=agent_id,
                started_at=started,
                ended_at=started + timedelta(seconds=31),
                termination_reason="agent ended the call",
                turns=[
                    TurnRecord(role="agent", message="Billing, how can I help?", started_ms=200),
                    TurnRecord(
                        role="user",
                        message="My invoice is wrong.",
                        started_ms=3700,
                        metrics={"voice_to_voice_ms": 910.0},
                    ),
                ],
                events=[CallEvent(at_ms=0, kind="media_started")],
            ),
        )

    page = sdk.conversational_ai.conversations.list(agent_id=agent_id)
    conversation = sdk.conversational_ai.conversations.get(call.id)

    summary = page.conversations[0]
    assert (summary.conversation_id, summary.agent_name, summary.message_count) == (
        call.id,
        "Billing",
        2,
    )
    assert (summary.status, summary.call_duration_secs, summary.direction) == (
        "done",
        31,
        "inbound",
    )
    assert summary.start_time_unix_secs == int(started.timestamp())
    assert [(t.role, t.message, t.time_in_call_secs) for t in conversation.transcript] == [
        ("agent", "Billing, how can I help?", 0),
        ("user", "My invoice is wrong.", 3),
    ]
    assert conversation.metadata.termination_reason == "agent ended the call"
    phone_call = conversation.metadata.phone_call
    assert phone_call is not None
    assert (phone_call.type, phone_call.external_number, phone_call.call_sid) == (
        "twilio",
        "+15550001111",
        "CA0001",
    )
    extra = conversation.model_dump()
    assert extra["transcript"][1]["velox_metrics"] == {"voice_to_voice_ms": 910.0}
    assert extra["velox"]["events"][0]["kind"] == "media_started"


def test_sdk_filters_searches_and_pages_conversations(
    sdk: ElevenLabs, database: Database, tenant_a: Tenant
) -> None:
    agent_id = sdk.conversational_ai.agents.create(name="Support", conversation_config={}).agent_id
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    ids = []
    with database.session() as session:
        for hour, words in enumerate(("My invoice is wrong.", "The invoice was paid.", "Hi")):
            call = create_call(
                session,
                tenant_a.organization_id,
                agent_id=agent_id,
                direction="inbound",
                channel="websocket",
            )
            started = base + timedelta(hours=hour)
            save_record(
                session,
                CallRecord(
                    call_id=call.id,
                    organization_id=tenant_a.organization_id,
                    agent_id=agent_id,
                    started_at=started,
                    ended_at=started + timedelta(seconds=20 + 40 * hour),
                    termination_reason="caller hung up",
                    turns=[TurnRecord(role="user", message=words, started_ms=0)],
                ),
            )
            ids.append(call.id)

    first = sdk.conversational_ai.conversations.list(
        agent_id=agent_id,
        search="invoice",
        call_successful="unknown",
        call_start_after_unix=int(base.timestamp()),
        call_start_before_unix=int((base + timedelta(hours=3)).timestamp()),
        sort_direction="asc",
        page_size=1,
    )
    second = sdk.conversational_ai.conversations.list(
        agent_id=agent_id,
        search="invoice",
        sort_direction="asc",
        page_size=1,
        cursor=first.next_cursor,
    )
    long_ones = sdk.conversational_ai.conversations.list(
        agent_id=agent_id, call_duration_min_secs=50
    )

    assert [c.conversation_id for c in first.conversations] == [ids[0]]
    assert first.has_more is True
    assert [c.conversation_id for c in second.conversations] == [ids[1]]
    assert second.has_more is False
    assert [c.conversation_id for c in long_ones.conversations] == [ids[2], ids[1]]
    with pytest.raises(ApiError) as refused:
        sdk.conversational_ai.conversations.list(search="invoice; drop table calls")
    assert refused.value.status_code == 422
