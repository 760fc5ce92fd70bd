"""Calls and recordings kept no longer than their agent says, at a frozen clock, batch by batch;
and personal data taken out of what is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.calls.pii import CARD, EMAIL, PHONE, luhn_valid, redact_pii
from app.calls.retention import apply_retention
from app.calls.store import save_record
from app.config.agent import AgentConfig
from app.db.agents import create_agent
from app.db.calls import create_call
from app.db.models import Call, Turn
from app.db.session import Database
from app.engine.record import CallRecord, TurnRecord
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def agent_keeping(database: Database, tenant: Tenant, *, days: int, audio_days: int) -> str:
    config = AgentConfig(name=f"keeps {days}/{audio_days}")
    config.platform_settings.privacy.retention_days = days
    config.platform_settings.privacy.audio_retention_days = audio_days
    with database.session() as session:
        return create_agent(session, tenant.organization_id, config).id


def finished_call(
    database: Database, recordings: Path, tenant: Tenant, agent_id: str, ended_days_ago: float
) -> str:
    with database.session() as session:
        call = create_call(
            session,
            tenant.organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel="twilio",
        )
        ended = NOW - timedelta(days=ended_days_ago)
        relative = f"{tenant.organization_id}/{call.id}.mp3"
        (recordings / relative).parent.mkdir(parents=True, exist_ok=True)
        (recordings / relative).write_bytes(b"ID3 fake mp3 bytes")
        record = CallRecord(
            call.id,
            tenant.organization_id,
            agent_id,
            started_at=ended - timedelta(minutes=2),
            ended_at=ended,
            turns=[TurnRecord("user", "hello", 0)],
            recording={"path": relative, "has_user_audio": True, "has_response_audio": True},
        )
        save_record(session, record)
        return call.id


def test_calls_and_recordings_past_their_agents_retention_are_deleted(
    database: Database, tenant_a: Tenant, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    short = agent_keeping(database, tenant_a, days=30, audio_days=7)
    forever = agent_keeping(database, tenant_a, days=-1, audio_days=-1)
    old = [finished_call(database, recordings, tenant_a, short, 31 + n) for n in range(5)]
    mid = finished_call(database, recordings, tenant_a, short, 10)  # keeps its transcript only
    new = finished_call(database, recordings, tenant_a, short, 1)
    kept = finished_call(database, recordings, tenant_a, forever, 400)

    run = apply_retention(database, recordings, NOW, batch=2)  # three batches of old calls

    assert (run.calls_deleted, run.recordings_deleted) == (5, 1)
    with database.session() as session:
        left = {c.id: c for c in session.query(Call).all()}
        turns = {t.call_id for t in session.query(Turn).all()}
    assert set(left) == {mid, new, kept}
    assert not set(old) & turns
    assert left[mid].recording_path is None
    assert left[mid].has_user_audio is False
    assert left[new].recording_path is not None
    files = {p.stem for p in recordings.rglob("*.mp3")}
    assert files == {new, kept}
    # Run again: nothing more is due.
    again = apply_retention(database, recordings, NOW)
    assert (again.calls_deleted, again.recordings_deleted) == (0, 0)


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("Call me at 415 555 0134 tomorrow", f"Call me at {PHONE} tomorrow"),
        ("or +44 20 7946 0958, please", f"or {PHONE}, please"),
        ("it's bob.smith@example.co.uk", f"it's {EMAIL}"),
        ("card 4111 1111 1111 1111 exp 12/29", f"card {CARD} exp 12/29"),
        ("card 4111-1111-1111-1112 is mistyped", "card 4111-1111-1111-1112 is mistyped"),
        ("order 12345678 from 2026", "order 12345678 from 2026"),
    ],
)
def test_personal_data_is_replaced_and_other_numbers_are_not(said: str, stored: str) -> None:
    assert redact_pii(said) == stored


def test_the_luhn_check() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
