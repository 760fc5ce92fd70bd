"""Calls held by a voice node that is gone end `node_lost`; live nodes' calls are left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import calls as call_queries
from app.db import voice_nodes
from app.db.models import Call, CallEvent, VoiceNode, utc_now
from app.db.session import Database
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

HOST = "voice-1"
SILENCE = timedelta(seconds=60)
DEAD_PIDS = {4242}


def call_on(database: Database, tenant: Tenant, node_id: str | None, status: str) -> str:
    with database.session() as db:
        agent = agent_queries.create_agent(db, tenant.organization_id, AgentConfig())
        call = call_queries.create_call(
            db, tenant.organization_id, agent_id=agent.id, direction="inbound", channel="twilio"
        )
        call_queries.mark_in_progress(db, tenant.organization_id, call.id, node_id=node_id)
        call.status = status
        return call.id


def node(database: Database, hostname: str, pid: int, silent_s: float = 0) -> str:
    with database.session() as db:
        node_id = voice_nodes.register_node(db, hostname, pid)
        db.get(VoiceNode, node_id).heartbeat_at = utc_now() - timedelta(seconds=silent_s)  # type: ignore[union-attr]
        return node_id


def status_of(database: Database, call_id: str) -> tuple[str, str]:
    with database.session() as db:
        call = db.scalars(select(Call).where(Call.id == call_id)).one()
        return call.status, call.termination_reason


def test_only_the_calls_of_nodes_that_are_gone_are_finished(
    database: Database, tenant_a: Tenant
) -> None:
    this = node(database, HOST, 100)
    alive_here = node(database, HOST, 101)
    killed_here = node(database, HOST, 4242)  # its process no longer exists
    silent_elsewhere = node(database, "voice-2", 100, silent_s=120)
    beating_elsewhere = node(database, "voice-2", 4242, silent_s=5)  # another host's pid
    calls = {
        "this": call_on(database, tenant_a, this, "in-progress"),
        "alive_here": call_on(database, tenant_a, alive_here, "in-progress"),
        "killed_here": call_on(database, tenant_a, killed_here, "in-progress"),
        "silent_elsewhere": call_on(database, tenant_a, silent_elsewhere, "in-progress"),
        "beating_elsewhere": call_on(database, tenant_a, beating_elsewhere, "in-progress"),
        "already_done": call_on(database, tenant_a, killed_here, "done"),
    }

    with database.session() as db:
        finished = voice_nodes.finish_calls_of_lost_nodes(
            db,
            this_node=this,
            hostname=HOST,
            silent_for=SILENCE,
            process_exists=lambda pid: pid not in DEAD_PIDS,
        )

    assert sorted(finished) == sorted([calls["killed_here"], calls["silent_elsewhere"]])
    for name in ("killed_here", "silent_elsewhere"):
        assert status_of(database, calls[name]) == ("failed", "node_lost")
    for name in ("this", "alive_here", "beating_elsewhere"):
        assert status_of(database, calls[name]) == ("in-progress", "")
    assert status_of(database, calls["already_done"])[0] == "done"
    with database.session() as db:
        kinds = db.scalars(
            select(CallEvent.kind).where(CallEvent.call_id == calls["killed_here"])
        ).all()
        assert "node_lost" in kinds


def test_a_node_found_gone_is_finished_once(database: Database, tenant_a: Tenant) -> None:
    this = node(database, HOST, 100)
    killed = node(database, HOST, 4242)
    call_on(database, tenant_a, killed, "in-progress")

    def sweep() -> list[str]:
        with database.session() as db:
            return voice_nodes.finish_calls_of_lost_nodes(
                db,
                this_node=this,
                hostname=HOST,
                silent_for=SILENCE,
                process_exists=lambda pid: pid not in DEAD_PIDS,
            )

    assert len(sweep()) == 1
    assert sweep() == []


def test_a_node_stopped_with_a_call_still_in_progress_is_gone_too(
    database: Database, tenant_a: Tenant
) -> None:
    this = node(database, HOST, 100)
    stopped = node(database, HOST, 101)
    call_id = call_on(database, tenant_a, stopped, "in-progress")
    with database.session() as db:
        voice_nodes.stop_node(db, stopped)
    with database.session() as db:
        voice_nodes.finish_calls_of_lost_nodes(
            db, this_node=this, hostname=HOST, silent_for=SILENCE, process_exists=lambda p: True
        )
    assert status_of(database, call_id) == ("failed", "node_lost")
