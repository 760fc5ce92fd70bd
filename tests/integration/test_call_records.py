"""A finished call is stored whole, once, in one transaction; callbacks close unanswered calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.calls.store import save_record
from app.config.agent import AgentConfig
from app.db.agents import create_agent
from app.db.calls import (
    create_call,
    get_call,
    mark_in_progress,
    record_status_callback,
)
from app.db.models import Call
from app.db.session import Database
from app.engine.record import CallEvent, CallRecord, TurnRecord
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

STARTED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def open_twilio_call(database: Database, tenant: Tenant, call_sid: str = "CA123") -> Call:
    with database.session() as session:
        agent = create_agent(session, tenant.organization_id, AgentConfig(name="Reception"))
        return create_call(
            session,
            tenant.organization_id,
            agent_id=agent.id,
            direction="inbound",
            channel="twilio",
            from_number="+15550001111",
            to_number="+15550002222",
            provider_call_sid=call_sid,
        )


def finished_record(call: Call, tenant: Tenant, *, turn_count: int = 2) -> CallRecord:
    turns = [
        TurnRecord(
            role="agent" if index % 2 == 0 else "user",
            message=f"message {index}",
            started_ms=1500 * index,
            interrupted=index == 1,
            metrics={"voice_to_voice_ms": 820.0 + index, "tts_first_byte_ms": None},
        )
        for index in range(turn_count)
    ]
    return CallRecord(
        call_id=call.id,
        organization_id=tenant.organization_id,
        agent_id=call.agent_id,
        started_at=STARTED,
        ended_at=STARTED + timedelta(seconds=42),
        status="done",
        termination_reason="caller hung up",
        turns=turns,
        events=[CallEvent(at_ms=0, kind="media_started"), CallEvent(at_ms=41_900, kind="stop")],
        metrics={"barge_ins": 1},
    )


def test_save_call_record_stores_call_turns_and_events(
    database: Database, tenant_a: Tenant
) -> None:
    call = open_twilio_call(database, tenant_a)

    with database.session() as session:
        save_record(session, finished_record(call, tenant_a))

    with database.session() as session:
        stored = get_call(session, tenant_a.organization_id, call.id)
        assert stored is not None
        assert stored.status == "done"
        assert stored.duration_secs == 42.0
        assert stored.ended_at == STARTED + timedelta(seconds=42)
        assert stored.termination_reason == "caller hung up"
        assert stored.metrics == {"barge_ins": 1}
        assert [(t.role, t.message, t.time_in_call_secs) for t in stored.turns] == [
            ("agent", "message 0", 0.0),
            ("user", "message 1", 1.5),
        ]
        assert stored.turns[1].interrupted is True
        assert stored.turns[1].metrics == {"voice_to_voice_ms": 821.0, "tts_first_byte_ms": None}
        assert [(e.at_ms, e.kind) for e in stored.events] == [
            (0, "media_started"),
            (41_900, "stop"),
        ]


def test_saving_a_call_twice_replaces_its_turns_and_events(
    database: Database, tenant_a: Tenant
) -> None:
    call = open_twilio_call(database, tenant_a)
    with database.session() as session:
        save_record(session, finished_record(call, tenant_a, turn_count=3))

    with database.session() as session:
        save_record(session, finished_record(call, tenant_a, turn_count=2))

    with database.session() as session:
        stored = get_call(session, tenant_a.organization_id, call.id)
        assert stored is not None
        assert len(stored.turns) == 2
        assert len(stored.events) == 2


def test_a_failing_save_leaves_the_call_untouched(database: Database, tenant_a: Tenant) -> None:
    call = open_twilio_call(database, tenant_a)
    record = finished_record(call, tenant_a)
    record.events.append(CallEvent(at_ms=5, kind="bad", data={"not_json": object()}))

    with pytest.raises(Exception, match="not JSON serializable"), database.session() as session:
        save_record(session, record)

    with database.session() as session:
        stored = get_call(session, tenant_a.organization_id, call.id)
        assert stored is not None
        assert stored.status == "initiated"
        assert stored.turns == []
        assert stored.events == []


def test_another_organization_cannot_read_the_call(
    database: Database, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    call = open_twilio_call(database, tenant_a)

    with database.session() as session:
        assert get_call(session, tenant_b.organization_id, call.id) is None


def test_busy_status_callback_fails_a_call_that_never_got_media(
    database: Database, tenant_a: Tenant
) -> None:
    call = open_twilio_call(database, tenant_a, call_sid="CAbusy")

    with database.session() as session:
        record_status_callback(session, "CAbusy", "busy", {"CallStatus": "busy"})

    with database.session() as session:
        stored = get_call(session, tenant_a.organization_id, call.id)
        assert stored is not None
        assert (stored.status, stored.provider_status) == ("failed", "busy")
        assert [(e.kind, e.data["status"]) for e in stored.events] == [("twilio_status", "busy")]


def test_completed_callback_keeps_the_engine_outcome_of_a_call_with_media(
    database: Database, tenant_a: Tenant
) -> None:
    call = open_twilio_call(database, tenant_a, call_sid="CAdone")
    with database.session() as session:
        mark_in_progress(session, tenant_a.organization_id, call.id, stream_sid="MZ1")
        save_record(session, finished_record(call, tenant_a))

    with database.session() as session:
        record_status_callback(session, "CAdone", "completed", {"CallDuration": "43"})
        save_record(session, finished_record(call, tenant_a))

    with database.session() as session:
        stored = get_call(session, tenant_a.organization_id, call.id)
        assert stored is not None
        assert (stored.status, stored.provider_status, stored.duration_secs) == (
            "done",
            "completed",
            42.0,
        )
        assert stored.stream_sid == "MZ1"
        assert [e.kind for e in stored.events].count("twilio_status") == 1


def test_status_callback_for_an_unknown_call_sid_is_ignored(database: Database) -> None:
    with database.session() as session:
        assert record_status_callback(session, "CAnobody", "ringing", {}) is None
