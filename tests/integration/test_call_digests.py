"""The database keeps each call's digest and search document itself (migration 0013's triggers):
written when a call is saved, saved again, re-measured or deleted, filled in for the calls that
existed before the migration, and gone again on downgrade. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import delete, inspect, select, text, update

from app.calls.store import save_record
from app.db.call_digests import call_digests
from app.db.call_search import CallFilters, find_calls
from app.db.calls import create_call, save_finished_call
from app.db.migrate import alembic_config, upgrade
from app.db.models import Call, CallAttempt
from app.db.organizations import create_organization
from app.db.search_text import parse_search
from app.db.session import Database
from app.engine.record import CallRecord, TurnRecord
from tests.integration.seeded_calls import (
    Analysed,
    Said,
    agent,
    analyse,
    campaign,
    dial,
    finished_call,
    lead,
)
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRIGGERS = {
    "call_digests_on_turns_insert",
    "call_digests_on_turns_update",
    "call_digests_on_turns_delete",
    "call_digests_on_calls_insert",
    "call_digests_on_calls_update",
    "call_digests_on_analysis_insert",
    "call_digests_on_analysis_update",
    "call_digests_on_analysis_delete",
    "call_digests_on_attempt_insert",
    "call_digests_on_attempt_update",
    "call_digests_on_attempt_delete",
    "call_search_on_analysis_insert",
    "call_search_on_analysis_summary",
    "call_search_on_analysis_delete",
}


def digest(database: Database, call_id: str) -> tuple[int, int, list[float]] | None:
    with database.session() as session:
        row = session.execute(
            select(
                call_digests.c.interrupted_turns,
                call_digests.c.provider_errors,
                call_digests.c.voice_to_voice_ms,
            )
            .join(Call, Call.seq == call_digests.c.call_seq)
            .where(Call.id == call_id)
        ).first()
    return None if row is None else (row[0], row[1], [float(v) for v in row[2]])


def found(database: Database, organization_id: str, search: str) -> list[str]:
    with database.session() as session:
        page = find_calls(session, organization_id, CallFilters(search=parse_search(search)))
    return [summary.call.id for summary in page.items]


def test_a_saved_call_has_its_digest(database: Database, tenant_a: Tenant) -> None:
    """Interrupted turns of either role, the engine's provider error count, and the callers'
    measured latencies in turn order (an agent turn's copy and anything not a number left out)."""
    with database.session() as session:
        agent_id = agent(session, tenant_a.organization_id, "Reception")
        call = create_call(
            session,
            tenant_a.organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel="twilio",
        )
        record = CallRecord(
            call_id=call.id,
            organization_id=tenant_a.organization_id,
            agent_id=agent_id,
            started_at=T0,
            ended_at=T0 + timedelta(seconds=30),
            metrics={"counters": {"provider_errors": 2, "barge_ins": 1}},
            turns=[
                TurnRecord("agent", "Hello", 0, interrupted=True, metrics={"voice_to_voice_ms": 5}),
                TurnRecord("user", "Hi", 900, metrics={"voice_to_voice_ms": 812.5}),
                TurnRecord("user", "Well", 2000, metrics={"voice_to_voice_ms": "fast"}),
                TurnRecord("user", "So", 3000, metrics={"voice_to_voice_ms": True}),
                TurnRecord("user", "Huge", 3500, metrics={"voice_to_voice_ms": 1e300}),
                TurnRecord(
                    "user", "Yes", 4000, interrupted=True, metrics={"voice_to_voice_ms": 640}
                ),
            ],
        )
        save_record(session, record)

    assert digest(database, call.id) == (2, 2, [812.5, 640.0])


def test_saving_again_and_new_metrics_replace_the_digest(
    database: Database, tenant_a: Tenant
) -> None:
    org = tenant_a.organization_id
    with database.session() as session:
        agent_id = agent(session, org, "Reception")
        call = finished_call(
            session,
            org,
            agent_id,
            started_at=T0,
            provider_errors=1,
            turns=[Said("user", "one", interrupted=True, voice_to_voice_ms=900)],
        )
    assert digest(database, call.id) == (1, 1, [900.0])
    with database.session() as session:
        session.execute(update(Call).where(Call.id == call.id).values(metrics={"counters": {}}))
    assert digest(database, call.id) == (1, 0, [900.0])

    with database.session() as session:
        save_finished_call(
            session,
            org,
            call.id,
            agent_id=agent_id,
            status="done",
            termination_reason="caller hung up",
            started_at=T0,
            ended_at=T0 + timedelta(seconds=5),
            metrics={"counters": {"provider_errors": 3}},
            turns=[
                {
                    "role": "user",
                    "message": "two",
                    "started_ms": 0,
                    "interrupted": False,
                    "source": "voice",
                    "metrics": {"voice_to_voice_ms": 450},
                }
            ],
            events=[],
        )
    assert digest(database, call.id) == (0, 3, [450.0])


def test_a_call_just_opened_has_an_empty_digest(database: Database, tenant_a: Tenant) -> None:
    with database.session() as session:
        agent_id = agent(session, tenant_a.organization_id, "Reception")
        call = create_call(
            session,
            tenant_a.organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel="websocket",
        )
    assert digest(database, call.id) == (0, 0, [])


def test_a_deleted_call_leaves_no_digest_and_no_search_document(
    database: Database, tenant_a: Tenant
) -> None:
    org = tenant_a.organization_id
    with database.session() as session:
        agent_id = agent(session, org, "Reception")
        call = finished_call(
            session,
            org,
            agent_id,
            started_at=T0,
            turns=[Said("user", "Please delete me")],
            analysis=Analysed(summary="A deletion request."),
        )
    with database.session() as session:
        session.execute(delete(Call).where(Call.id == call.id))

    with database.session() as session:
        digests = session.scalar(select(text("count(*)")).select_from(call_digests))
        documents = session.scalar(text("SELECT count(*) FROM call_search"))
    assert (digests, documents) == (0, 0)


def listed(database: Database, organization_id: str, filters: CallFilters) -> list[str]:
    with database.session() as session:
        page = find_calls(session, organization_id, filters)
    return [summary.call.id for summary in page.items]


def test_the_digest_follows_an_analysis_and_a_dial_written_after_the_call(
    database: Database, tenant_a: Tenant
) -> None:
    """The list filters on the digest: a verdict, sentiment, outcome or campaign that arrives
    (or changes, or goes) once the call is stored is what the list filters on."""
    org = tenant_a.organization_id
    with database.session() as session:
        sales = agent(session, org, "Sales")
        call = finished_call(session, org, sales, started_at=T0, turns=[Said("user", "Hi")])
        camp = campaign(session, org, sales, "+15559990000")
    negative = CallFilters(sentiments=("negative",), call_successful=("failure",))
    assert listed(database, org, negative) == []

    with database.session() as session:
        analyse(session, call.id, Analysed("Angry.", "negative", "call_back", "failure"))
    assert listed(database, org, negative) == [call.id]
    assert listed(database, org, CallFilters(outcomes=("call_back",))) == [call.id]

    with database.session() as session:
        lead_id = lead(session, org, camp, "+15550003333")
        dial(session, org, camp, lead_id, number=1, outcome="busy", dialed_at=T0)
        dial(session, org, camp, lead_id, number=2, outcome="voicemail", dialed_at=T0)
        session.execute(
            update(CallAttempt).where(CallAttempt.number == 2).values(conversation_id=call.id)
        )
    assert listed(database, org, CallFilters(outcomes=("voicemail",))) == [call.id]
    assert listed(database, org, CallFilters(campaign_id=camp)) == [call.id]

    with database.session() as session:
        session.execute(delete(CallAttempt).where(CallAttempt.conversation_id == call.id))
    assert listed(database, org, CallFilters(campaign_id=camp)) == []
    assert listed(database, org, CallFilters(outcomes=("call_back",))) == [call.id]


def test_a_summary_is_searchable_once_written_and_no_longer_once_changed(
    database: Database, tenant_a: Tenant
) -> None:
    org = tenant_a.organization_id
    with database.session() as session:
        call = finished_call(session, org, agent(session, org, "Reception"), started_at=T0)
    assert found(database, org, "invoice") == []

    with database.session() as session:
        analyse(session, call.id, Analysed(summary="Disputed invoice."))
    assert found(database, org, "invoice") == [call.id]

    with database.session() as session:
        analyse(session, call.id, Analysed(summary="Billing question."))
    assert found(database, org, "invoice") == []
    assert found(database, org, "billing") == [call.id]


def _triggers(url: str) -> set[str]:
    database = Database(url)
    try:
        with database.session() as session:
            if database.engine.dialect.name == "postgresql":
                query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            else:
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            return set(session.scalars(text(query)))
    finally:
        database.dispose()


def test_every_trigger_exists_at_the_newest_revision(empty_database_url: str) -> None:
    """A later migration that rebuilds `calls`, `turns` or `call_analyses` on SQLite (a batch
    "move and copy") drops their triggers: it must create them again, or this fails."""
    upgrade(empty_database_url)

    expected = TRIGGERS | (
        set() if empty_database_url.startswith("postgresql") else {"call_digests_on_calls_delete"}
    )
    assert _triggers(empty_database_url) >= expected


def test_the_migration_indexes_the_calls_stored_before_it(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    upgrade(empty_database_url)
    database = Database(empty_database_url)
    try:
        with database.session() as session:
            organization, _ = create_organization(session, "Before")
            org = organization.id
            call = finished_call(
                session,
                org,
                agent(session, org, "Reception"),
                started_at=T0,
                provider_errors=4,
                turns=[
                    Said("agent", "Hello", interrupted=True),
                    Said("user", "Where is my order?", voice_to_voice_ms=700),
                ],
                analysis=Analysed(summary="Order tracking."),
            )
    finally:
        database.dispose()
    # Back to before the digests (the call's rows stay; the digests and search documents
    # go), then forward again: the migrations must index what was stored before them.
    command.downgrade(config, "0012_recordings")
    command.upgrade(config, "head")

    database = Database(empty_database_url)
    try:
        assert digest(database, call.id) == (1, 4, [700.0])
        assert found(database, org, "order tracking") == [call.id]
    finally:
        database.dispose()


def test_downgrade_removes_what_the_migration_made(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "0012_recordings")

    database = Database(empty_database_url)
    try:
        tables = set(inspect(database.engine).get_table_names())
        indexes = {index["name"] for index in inspect(database.engine).get_indexes("calls")}
    finally:
        database.dispose()
    assert not {"call_digests", "call_search"} & tables
    assert not any(name and name.endswith("_start") for name in indexes)
    assert not _triggers(empty_database_url) & TRIGGERS
    upgrade(empty_database_url)  # and back up again
