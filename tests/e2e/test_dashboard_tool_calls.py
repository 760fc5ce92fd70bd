"""The call page shows the tools the agent called beside the turn that called them, in
Chromium against the built dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from app.db.calls import create_call, save_finished_call
from app.people.roles import Role
from tests.e2e.dashboard_app import RunningDashboard, launch, running_dashboard, screenshot
from tests.e2e.test_dashboard import assert_accessible, open_page, person, sign_in
from tests.integration.seeded_calls import agent

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    with running_dashboard(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def seed_call_with_tools(dashboard: RunningDashboard) -> str:
    """A finished call whose agent looked an order up (a webhook, 2.41 s) and whose second
    lookup timed out, saved as the recorder saves one."""
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    lookup = {
        "type": "webhook",
        "request_id": "call_1",
        "tool_name": "get_order_status",
        "params_as_json": '{"order_id": "A7"}',
        "tool_has_been_called": True,
        "tool_details": {
            "type": "webhook",
            "method": "GET",
            "url": "https://orders.example.com/orders/A7",
            "path_params": {"order_id": "A7"},
            "query_params": {},
            "body": None,
        },
    }
    found = {
        "type": "webhook",
        "request_id": "call_1",
        "tool_name": "get_order_status",
        "result_value": '{"status": "shipped", "eta": "Tuesday"}',
        "is_error": False,
        "tool_has_been_called": True,
        "tool_latency_secs": 2.41,
        "error_type": None,
        "dynamic_variable_updates": [],
    }
    retry = {**lookup, "request_id": "call_2", "params_as_json": '{"order_id": "B9"}'}
    timed_out = {
        **found,
        "request_id": "call_2",
        "result_value": '{"error": "the tool \'get_order_status\' did not answer within 10 s"}',
        "is_error": True,
        "error_type": "timeout",
        "tool_latency_secs": 10.0,
    }
    with dashboard.database.session() as session:
        org = dashboard.organization_id
        orders = agent(session, org, "Orders desk")
        call = create_call(session, org, agent_id=orders, direction="inbound", channel="twilio")
        turns = [
            ("agent", "Hello, Acme orders.", [], []),
            ("user", "Where are orders A7 and B9?", [], []),
            ("agent", "Let me look those up.", [lookup, retry], [found, timed_out]),
            ("agent", "A7 has shipped; I could not reach the system for B9.", [], []),
        ]
        save_finished_call(
            session,
            org,
            call.id,
            agent_id=orders,
            status="done",
            termination_reason="caller hung up",
            started_at=started,
            ended_at=started + timedelta(seconds=40),
            metrics={"counters": {}},
            turns=[
                {
                    "role": role,
                    "message": message,
                    "started_ms": 3000 * position,
                    "interrupted": False,
                    "source": "voice",
                    "metrics": {},
                    "tool_calls": calls,
                    "tool_results": results,
                }
                for position, (role, message, calls, results) in enumerate(turns)
            ],
            events=[],
        )
        return call.id


def test_a_support_lead_reads_the_tool_calls_beside_the_turn_that_made_them(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    call_id = seed_call_with_tools(dashboard)
    email = person(dashboard, "tia@acme.test", Role.SUPPORT)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    page.goto(f"/calls/view/?id={call_id}")

    transcript = page.get_by_role("list", name="Transcript")
    turn = transcript.get_by_role("listitem").filter(has_text="Let me look those up.")
    tools = turn.get_by_role("list", name="Tool calls")
    expect(tools).to_be_visible()
    calls = tools.get_by_role("listitem")
    expect(calls).to_have_count(2)
    expect(calls.nth(0)).to_contain_text("get_order_status")
    expect(calls.nth(0)).to_contain_text("order_id: A7")
    expect(calls.nth(0)).to_contain_text('"eta": "Tuesday"')
    expect(calls.nth(0)).to_contain_text("2.41 s")
    expect(calls.nth(1)).to_contain_text("Error: timeout")
    expect(calls.nth(1)).to_contain_text("did not answer within 10 s")
    other = transcript.get_by_role("listitem").filter(has_text="Where are orders A7 and B9?")
    expect(other.get_by_role("list", name="Tool calls")).to_have_count(0)
    assert_accessible(page, "call page with tool calls")
    screenshot(page, "call-detail-tool-calls")
