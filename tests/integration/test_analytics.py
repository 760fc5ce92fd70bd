"""`/v1/analytics`: figures for a period, per day in a named time zone, per agent and per
campaign, checked against values worked out by hand; a campaign's funnel; bad input refused; and
SQLite and PostgreSQL giving the same figures for the same calls."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import analytics as analytics_routes
from app.db.migrate import upgrade
from app.db.organizations import create_organization
from app.db.session import Database
from app.observability.metrics import REJECTED_QUERIES
from tests.api_app import build_api_app
from tests.conftest import PostgresDatabases
from tests.integration.seeded_calls import (
    Analysed,
    Said,
    agent,
    campaign,
    dial,
    finished_call,
    lead,
    live_call,
    unanswered_call,
)
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

MAR = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = {
    "call_start_after_unix": int(MAR.timestamp()),
    "call_start_before_unix": int((MAR + timedelta(days=7)).timestamp()),
}


def analytics_app(database: Database) -> FastAPI:
    app = build_api_app(database)
    app.include_router(analytics_routes.router)
    return app


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(analytics_app(database)) as test_client:
        yield test_client


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world(database: Database, tenant_a: Tenant, tenant_b: Tenant) -> dict[str, str]:
    """Six calls in the first week of March 2026 (UTC), one before it, one of another tenant."""
    org = tenant_a.organization_id
    with database.session() as session:
        reception = agent(session, org, "Reception")
        sales = agent(session, org, "Sales")
        camp = campaign(session, org, sales, "+15559990000")
        finished_call(
            session,
            org,
            reception,
            started_at=at(2, 9),
            duration_secs=60,
            turns=[
                Said("user", "Hi", voice_to_voice_ms=800),
                Said("agent", "Hello"),
                Said("user", "Hours?", voice_to_voice_ms=1000),
                Said("agent", "Nine to", interrupted=True),
            ],
            analysis=Analysed("Asked for hours.", "positive", "completed", "success"),
        )
        finished_call(  # 00:30 on 3 March in Paris
            session,
            org,
            reception,
            started_at=at(2, 23, 30),
            duration_secs=120,
            provider_errors=1,
            turns=[
                Said("user", "Refund", voice_to_voice_ms=600),
                Said("agent", "Let me", interrupted=True),
                Said("user", "Now", voice_to_voice_ms=1400),
            ],
            analysis=Analysed("Wants a call back.", "neutral", "call_back", "failure"),
        )
        demo = finished_call(
            session,
            org,
            sales,
            started_at=at(3, 10),
            duration_secs=300,
            channel="sip",
            direction="outbound",
            termination_reason="transferred",
            turns=[Said("user", "Yes, a demo", voice_to_voice_ms=900)],
            analysis=Analysed("Demo booked.", "positive", "meeting_booked", "success"),
        )
        busy = unanswered_call(session, org, sales, placed_at=at(4, 12))
        finished_call(
            session,
            org,
            reception,
            started_at=at(5, 8),
            duration_secs=15,
            channel="websocket",
            status="failed",
            termination_reason="no_provider",
        )
        live_call(session, org, reception, started_at=at(6, 10))
        finished_call(  # before the period
            session, org, reception, started_at=datetime(2026, 2, 27, 9, tzinfo=UTC)
        )
        other = tenant_b.organization_id
        finished_call(
            session, other, agent(session, other, "Elsewhere"), started_at=at(2, 9), duration_secs=1
        )
        for number, call_id, outcome in ((1, demo.id, "meeting_booked"), (2, busy.id, "busy")):
            lead_id = lead(session, org, camp, f"+1555000000{number}")
            dial(
                session,
                org,
                camp,
                lead_id,
                number=1,
                outcome=outcome,
                dialed_at=at(3, 9),
                conversation_id=call_id,
            )
    return {"reception": reception, "sales": sales, "campaign": camp}


def get(client: TestClient, tenant: Tenant, path: str, **query: Any) -> dict[str, Any]:
    response = client.get(f"/v1/analytics/{path}", params=query, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_summary_of_a_period(client: TestClient, tenant_a: Tenant, world: dict[str, str]) -> None:
    body = get(client, tenant_a, "summary", **PERIOD)

    assert body == {
        **PERIOD,
        "calls": 6,
        "minutes": 8.25,  # 60 + 120 + 300 + 0 + 15 s; the live call has no duration yet
        "outcomes": {
            "busy": 1,  # the dial's outcome: nobody answered
            "call_back": 1,
            "completed": 1,
            "meeting_booked": 1,
            "unknown": 2,
        },
        "sentiments": {"neutral": 1, "positive": 2, "unknown": 3},
        "success_rate": 0.6667,  # 2 successes, 1 failure
        "average_duration_secs": 99.0,
        # [0, 15, 60, 120, 300]: rank 0.95 × 4 = 3.8, so 120 + 0.8 × (300 − 120)
        "p95_duration_secs": 264.0,
        # [600, 800, 900, 1000, 1400]: p50 at rank 2; p95 at 3.8: 1000 + 0.8 × 400
        "voice_to_voice_p50_ms": 900.0,
        "voice_to_voice_p95_ms": 1320.0,
        "voice_to_voice_turns": 5,
        "interruptions_per_call": 0.333,  # 2 interrupted turns over 6 calls
        "transfers": 1,
        "provider_failures": 2,  # one provider error in a call, one call refused for want of one
    }


def test_summary_of_one_campaign_counts_its_dials_only(
    client: TestClient, tenant_a: Tenant, world: dict[str, str]
) -> None:
    body = get(client, tenant_a, "summary", campaign_id=world["campaign"], **PERIOD)

    assert (body["calls"], body["minutes"], body["outcomes"]) == (
        2,
        5.0,
        {"busy": 1, "meeting_booked": 1},
    )
    assert (body["p95_duration_secs"], body["voice_to_voice_p95_ms"], body["transfers"]) == (
        285.0,
        900.0,
        1,
    )


def test_summary_narrowed_to_a_channel_and_a_direction(
    client: TestClient, tenant_a: Tenant, world: dict[str, str]
) -> None:
    inbound_twilio = get(
        client, tenant_a, "summary", channel="twilio", direction="inbound", **PERIOD
    )
    assert (inbound_twilio["calls"], inbound_twilio["voice_to_voice_turns"]) == (3, 4)


def test_summary_without_calls_has_nothing_to_divide(
    client: TestClient, tenant_b: Tenant, world: dict[str, str]
) -> None:
    body = get(client, tenant_b, "summary", agent_id=world["reception"], **PERIOD)

    assert body["calls"] == 0
    assert body["outcomes"] == {}
    assert [body[k] for k in ("success_rate", "p95_duration_secs", "interruptions_per_call")] == [
        None,
        None,
        None,
    ]


def test_summary_defaults_to_the_last_30_days(
    client: TestClient, tenant_a: Tenant, world: dict[str, str]
) -> None:
    body = get(client, tenant_a, "summary")

    assert body["call_start_before_unix"] - body["call_start_after_unix"] == 30 * 86400


def test_per_agent_busiest_first(
    client: TestClient, tenant_a: Tenant, world: dict[str, str]
) -> None:
    agents = get(client, tenant_a, "agents", **PERIOD)["agents"]

    assert [(a["agent_name"], a["agent_id"], a["calls"]) for a in agents] == [
        ("Reception", world["reception"], 4),
        ("Sales", world["sales"], 2),
    ]
    reception, sales = agents
    # Reception: durations [15, 60, 120] (p95 at rank 1.9); latencies [600, 800, 1000, 1400]
    assert (reception["minutes"], reception["average_duration_secs"]) == (3.25, 65.0)
    assert (reception["p95_duration_secs"], reception["voice_to_voice_p50_ms"]) == (114.0, 900.0)
    assert reception["voice_to_voice_p95_ms"] == 1340.0  # rank 2.85: 1000 + 0.85 × 400
    assert (reception["interruptions_per_call"], reception["provider_failures"]) == (0.5, 2)
    assert (sales["p95_duration_secs"], sales["success_rate"], sales["transfers"]) == (
        285.0,
        1.0,
        1,
    )


def test_per_day_in_the_named_time_zone(
    client: TestClient, tenant_a: Tenant, world: dict[str, str]
) -> None:
    """23:30 UTC on 2 March is 00:30 on 3 March in Paris."""
    query = {"start_date": "2026-03-02", "end_date": "2026-03-05"}
    paris = get(client, tenant_a, "daily", time_zone="Europe/Paris", **query)
    utc = get(client, tenant_a, "daily", **query)

    assert [(d["date"], d["calls"]) for d in paris["days"]] == [
        ("2026-03-02", 1),
        ("2026-03-03", 2),
        ("2026-03-04", 1),
        ("2026-03-05", 1),
    ]
    assert [(d["date"], d["calls"]) for d in utc["days"]] == [
        ("2026-03-02", 2),
        ("2026-03-03", 1),
        ("2026-03-04", 1),
        ("2026-03-05", 1),
    ]
    assert (paris["time_zone"], utc["time_zone"]) == ("Europe/Paris", "UTC")
    third = paris["days"][1]
    assert (third["minutes"], third["voice_to_voice_p50_ms"], third["outcomes"]) == (
        7.0,
        900.0,
        {"call_back": 1, "meeting_booked": 1},
    )


def test_a_day_of_a_clock_change_has_its_own_length(
    database: Database, client: TestClient, tenant_a: Tenant
) -> None:
    """New York springs forward on 8 March 2026: that day runs 05:00 to 04:00 UTC (23 hours);
    a call at 04:30 UTC on the 9th is 00:30 EDT on the 9th (it would be the 8th at EST)."""
    org = tenant_a.organization_id
    with database.session() as session:
        desk = agent(session, org, "Desk")
        for started in (at(8, 4, 59), at(8, 5, 0), at(9, 3, 59), at(9, 4, 30)):
            finished_call(session, org, desk, started_at=started)

    days = get(
        client,
        tenant_a,
        "daily",
        time_zone="America/New_York",
        start_date="2026-03-07",
        end_date="2026-03-09",
    )["days"]

    assert [(d["date"], d["calls"]) for d in days] == [
        ("2026-03-07", 1),
        ("2026-03-08", 2),
        ("2026-03-09", 1),
    ]


def test_campaign_funnel(database: Database, client: TestClient, tenant_a: Tenant) -> None:
    org = tenant_a.organization_id
    with database.session() as session:
        sales = agent(session, org, "Sales")
        camp = campaign(session, org, sales, "+15559990000")
        dials = {
            "+15550000001": [("no_answer", True), ("meeting_booked", True)],
            "+15550000002": [("busy", True)],
            "+15550000003": [("voicemail", True)],  # a machine picked up
            "+15550000004": [("call_back", True), ("not_interested", True)],
            "+15550000005": [],  # not called yet
            "+15550000006": [(None, False)],  # claimed, never dialed
        }
        for number, attempts in dials.items():
            lead_id = lead(session, org, camp, number)
            for n, (outcome, dialed) in enumerate(attempts, start=1):
                dial(
                    session,
                    org,
                    camp,
                    lead_id,
                    number=n,
                    outcome=outcome,
                    dialed_at=at(3, 9) if dialed else None,
                )

    funnel = get(client, tenant_a, f"campaigns/{camp}/funnel")

    assert funnel == {
        "campaign_id": camp,
        "leads": 6,
        "dialed": 4,
        "answered": 3,
        "human": 2,
        "outcomes": {"meeting_booked": 1, "not_interested": 1},
    }


def test_another_organizations_campaign_is_not_found(
    client: TestClient, tenant_b: Tenant, world: dict[str, str]
) -> None:
    response = client.get(
        f"/v1/analytics/campaigns/{world['campaign']}/funnel", headers=tenant_b.headers
    )

    assert response.status_code == 404


BAD = [
    ("daily", {"time_zone": "Mars/Olympus"}, "unknown_time_zone"),
    ("daily", {"time_zone": "../../etc/passwd"}, "unknown_time_zone"),
    ("daily", {"start_date": "2026-03-05", "end_date": "2026-03-01"}, "invalid_range"),
    ("daily", {"start_date": "2024-01-01", "end_date": "2026-01-01"}, "invalid_range"),
    ("summary", {"call_start_after_unix": 10, "call_start_before_unix": 5}, "invalid_range"),
    ("summary", {"channel": "fax"}, "unknown_filter_value"),
    ("agents", {"direction": "both"}, "unknown_filter_value"),
]


@pytest.mark.parametrize(("path", "query", "reason"), BAD, ids=[str(q) for _, q, _ in BAD])
def test_bad_input_is_a_422_with_the_reason_and_counted(
    client: TestClient, tenant_a: Tenant, path: str, query: dict[str, Any], reason: str
) -> None:
    before = REJECTED_QUERIES.labels(reason=reason)._value.get()

    response = client.get(f"/v1/analytics/{path}", params=query, headers=tenant_a.headers)

    assert response.status_code == 422
    assert response.json()["detail"]["status"] == reason
    assert REJECTED_QUERIES.labels(reason=reason)._value.get() == before + 1


# --- the same figures on both databases --------------------------------------------------------

OUTCOMES = ("completed", "call_back", "meeting_booked", "not_interested", None)
SENTIMENTS = ("positive", "neutral", "negative", None)


def seed_random_calls(database: Database, seed: int) -> str:
    """One organization with three agents and 150 calls over March 2026 (both clock changes of
    Paris and New York included), drawn from `seed`; its API key."""
    rng = random.Random(seed)
    with database.session() as session:
        organization, key = create_organization(session, "Twin")
        org = organization.id
        agents = [agent(session, org, name) for name in ("Ann", "Bo", "Cy")]
        for _ in range(150):
            started = MAR + timedelta(seconds=rng.randrange(31 * 86400))
            turns = [
                Said(
                    "user" if n % 2 else "agent",
                    "words",
                    interrupted=rng.random() < 0.15,
                    voice_to_voice_ms=round(rng.uniform(300, 2500), 1) if n % 2 else None,
                )
                for n in range(rng.randrange(0, 9))
            ]
            outcome = rng.choice(OUTCOMES)
            finished_call(
                session,
                org,
                rng.choice(agents),
                started_at=started,
                duration_secs=round(rng.uniform(0, 900), 3),
                channel=rng.choice(("twilio", "sip", "websocket")),
                direction=rng.choice(("inbound", "outbound")),
                termination_reason=rng.choice(("caller hung up", "transferred", "no_provider")),
                provider_errors=rng.choice((0, 0, 0, 1, 2)),
                turns=turns,
                analysis=None
                if outcome is None
                else Analysed(
                    "summary",
                    rng.choice(SENTIMENTS),
                    outcome,
                    rng.choice(("success", "failure", "unknown")),
                ),
            )
    return key


def figures_of(database: Database, key: str) -> dict[str, Any]:
    headers = {"xi-api-key": key}
    whole_month = {
        "call_start_after_unix": int(MAR.timestamp()),
        "call_start_before_unix": int(datetime(2026, 4, 1, tzinfo=UTC).timestamp()),
    }
    with TestClient(analytics_app(database)) as client:
        found = {
            "summary": client.get("/v1/analytics/summary", params=whole_month, headers=headers),
            "inbound": client.get(
                "/v1/analytics/summary",
                params={**whole_month, "direction": "inbound", "channel": "sip,twilio"},
                headers=headers,
            ),
            "agents": client.get("/v1/analytics/agents", params=whole_month, headers=headers),
        }
        for zone in ("Europe/Paris", "America/New_York", "Asia/Kolkata"):
            found[zone] = client.get(
                "/v1/analytics/daily",
                params={"time_zone": zone, "start_date": "2026-02-28", "end_date": "2026-04-01"},
                headers=headers,
            )
    bodies = {}
    for name, response in found.items():
        assert response.status_code == 200, response.text
        bodies[name] = response.json()
    for row in bodies["agents"]["agents"]:
        del row["agent_id"]  # each database made its own ids
    return bodies


def test_sqlite_and_postgresql_give_the_same_figures_for_the_same_calls(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    figures = []
    for url in (f"sqlite:///{tmp_path / 'twin.db'}", postgres_databases.create()):
        upgrade(url)
        database = Database(url)
        try:
            figures.append(figures_of(database, seed_random_calls(database, seed=15)))
        finally:
            database.dispose()
    on_sqlite, on_postgresql = figures

    assert on_sqlite["summary"]["calls"] == 150
    assert sum(day["calls"] for day in on_sqlite["Europe/Paris"]["days"]) == 150
    assert on_sqlite == on_postgresql
