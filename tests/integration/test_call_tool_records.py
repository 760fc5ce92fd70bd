"""A saved call's tool calls: stored on their turn, counted once in their tool's usage, and
shown to the post-call analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.analysis import runs as analysis_runs
from app.calls.store import save_record
from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import analyses as analysis_rows
from app.db import calls as call_queries
from app.db import organizations as org_queries
from app.db import tools as tool_queries
from app.db.session import Database
from app.engine.record import CallRecord, TurnRecord

pytestmark = pytest.mark.integration

SECRET = b"s" * 32


def saved_call(database: Database) -> tuple[str, str, CallRecord]:
    with database.session() as session:
        org, _ = org_queries.create_organization(session, "Acme")
        agent = agent_queries.create_agent(session, org.id, AgentConfig(name="Orders"))
        tool = tool_queries.create_tool(
            session,
            org.id,
            {
                "type": "webhook",
                "name": "get_order_status",
                "description": "An order's status.",
                "api_schema": {"url": "https://orders.example.com/orders", "method": "GET"},
            },
        )
        call = call_queries.create_call(
            session, org.id, agent_id=agent.id, direction="inbound", channel="twilio"
        )
        record = CallRecord.opened(call.id, org.id, agent.id)
        record.ended_at = record.started_at + timedelta(seconds=20)
        looked_up = TurnRecord("agent", "Let me check.", 3000)
        looked_up.tool_calls = [
            {
                "type": "webhook",
                "request_id": "call_1",
                "tool_name": "get_order_status",
                "params_as_json": '{"order_id": "A7"}',
                "tool_has_been_called": True,
                "tool_details": None,
            }
        ]
        looked_up.tool_results = [
            {
                "type": "webhook",
                "request_id": "call_1",
                "tool_name": "get_order_status",
                "result_value": '{"status": "shipped"}',
                "is_error": False,
                "tool_has_been_called": True,
                "tool_latency_secs": 1.5,
                "error_type": None,
                "dynamic_variable_updates": [],
                "tool_id": tool.id,
            }
        ]
        record.turns = [TurnRecord("user", "Where is A7?", 0), looked_up]
        save_record(session, record)
        return org.id, tool.id, record


def test_a_tool_call_is_counted_once_in_its_tools_usage_however_often_the_call_is_saved(
    database: Database,
) -> None:
    org, tool_id, record = saved_call(database)
    with database.session() as session:
        save_record(session, record)  # a retried save

    with database.session() as session:
        tool = tool_queries.get_tool(session, org, tool_id)
        assert tool is not None
        assert (tool.calls_total, tool.latency_secs_total) == (1, 1.5)
        call = call_queries.get_call(session, org, record.call_id)
        assert call is not None
        assert call.turns[1].tool_calls[0]["request_id"] == "call_1"  # type: ignore[index]
        assert call.turns[0].tool_calls is None


def test_the_analysis_reads_what_the_tools_answered(database: Database) -> None:
    saved_call(database)

    with database.session() as session:
        claimed = analysis_rows.claim_next(session, datetime.now(UTC), timedelta(minutes=6))
        assert claimed is not None
        job = analysis_runs.load_job(session, claimed.call_id, SECRET)

    agent_line = job.request.lines[1]
    assert agent_line.text == (
        'Let me check. [tool get_order_status {"order_id": "A7"}: {"status": "shipped"}]'
    )
