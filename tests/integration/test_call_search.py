"""`GET /v1/convai/conversations`: every filter (ElevenLabs' and Velox's), full-text search,
the order and cursor pages that stay put while calls are added, tenant isolation, and bad input
refused with the reason, counted, never a 500. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from app.db.calls import save_finished_call
from app.db.models import Call
from app.db.session import Database
from app.observability.metrics import REJECTED_QUERIES
from tests.integration.seeded_calls import (
    Analysed,
    Said,
    agent,
    analyse,
    campaign,
    dial,
    finished_call,
    lead,
    live_call,
    unanswered_call,
)
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIST = "/v1/convai/conversations"


def unix(at: datetime) -> int:
    return int(at.timestamp())


@dataclass(frozen=True, slots=True)
class World:
    """Six calls of tenant A, each with something the others lack; ids by label."""

    calls: dict[str, str]
    reception: str
    sales: str
    campaign_id: str

    def label(self, conversation_id: str) -> str:
        return {v: k for k, v in self.calls.items()}[conversation_id]


@pytest.fixture
def world(database: Database, tenant_a: Tenant) -> World:
    org = tenant_a.organization_id
    with database.session() as session:
        reception = agent(session, org, "Reception")
        sales = agent(session, org, "Sales")
        camp = campaign(session, org, sales, "+15559990000")
        calls = {
            "A": finished_call(
                session,
                org,
                reception,
                started_at=T0,
                duration_secs=42,
                from_number="+15550001111",
                turns=[
                    Said("agent", "Thanks for calling Smile Dental."),
                    Said("user", "I need to cancel my appointment.", voice_to_voice_ms=900),
                    Said("agent", "Of course, which day was it?"),
                ],
                analysis=Analysed(
                    "Caller cancelled a cleaning.", "negative", "completed", "success"
                ),
            ),
            "B": finished_call(
                session,
                org,
                sales,
                started_at=T0 + timedelta(hours=1),
                duration_secs=300,
                channel="sip",
                direction="outbound",
                from_number="+15559990000",
                to_number="+15550002222",
                turns=[
                    Said("agent", "Hi, this is Ana from Velox."),
                    Said("user", "Sure, book a demo for Tuesday.", voice_to_voice_ms=700),
                ],
                analysis=Analysed("Demo booked.", "positive", "meeting_booked", "success"),
                recording={
                    "path": f"{org}/demo.mp3",
                    "has_user_audio": True,
                    "has_response_audio": True,
                },
            ),
            "C": finished_call(
                session,
                org,
                reception,
                started_at=T0 + timedelta(hours=2),
                duration_secs=15,
                channel="websocket",
                from_number="",
                status="failed",
                termination_reason="no_provider",
            ),
            "D": unanswered_call(session, org, sales, placed_at=T0 + timedelta(hours=3)),
            "E": finished_call(
                session,
                org,
                reception,
                started_at=T0 + timedelta(hours=4),
                duration_secs=95,
                from_number="+15550001111",
                turns=[
                    Said("agent", "Smile Dental, how can I help?", interrupted=True),
                    Said("user", "Where is my refund?", voice_to_voice_ms=1100),
                ],
                analysis=Analysed(
                    "Wants a call back about the refund.", "neutral", "call_back", "failure"
                ),
            ),
            "F": live_call(session, org, reception, started_at=T0 + timedelta(hours=5)),
        }
        for number, label, outcome in ((1, "B", "meeting_booked"), (2, "D", "busy")):
            lead_id = lead(session, org, camp, f"+1555000{number}")
            dial(
                session,
                org,
                camp,
                lead_id,
                number=1,
                outcome=outcome,
                dialed_at=T0,
                conversation_id=calls[label].id,
            )
    return World({label: call.id for label, call in calls.items()}, reception, sales, camp)


def listed(client: TestClient, tenant: Tenant, world: World, **query: Any) -> list[str]:
    response = client.get(LIST, params={"page_size": 100, **query}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return [world.label(c["conversation_id"]) for c in response.json()["conversations"]]


def test_lists_every_call_newest_start_first(
    client: TestClient, tenant_a: Tenant, world: World
) -> None:
    assert listed(client, tenant_a, world) == ["F", "E", "D", "C", "B", "A"]
    assert listed(client, tenant_a, world, sort_direction="asc") == ["A", "B", "C", "D", "E", "F"]


def test_each_row_carries_its_numbers_outcome_sentiment_and_whether_it_has_audio(
    client: TestClient, tenant_a: Tenant, world: World
) -> None:
    response = client.get(LIST, params={"page_size": 100}, headers=tenant_a.headers)
    rows = {world.label(row["conversation_id"]): row for row in response.json()["conversations"]}
    shown = ("from_number", "to_number", "outcome", "sentiment", "has_audio")
    assert {label: tuple(rows[label][key] for key in shown) for label in "ABCD"} == {
        "A": ("+15550001111", "+15559990000", "completed", "negative", False),
        "B": ("+15559990000", "+15550002222", "meeting_booked", "positive", True),
        "C": ("", "+15559990000", None, None, False),
        "D": ("+15559990000", "+15550003333", "busy", None, False),
    }


def test_a_calls_detail_names_its_direction_and_ends_whatever_its_channel(
    client: TestClient, tenant_a: Tenant, world: World
) -> None:
    for label, expected in (
        ("B", ("outbound", "+15559990000", "+15550002222")),
        ("C", ("inbound", "", "+15559990000")),
    ):
        response = client.get(f"{LIST}/{world.calls[label]}", headers=tenant_a.headers)
        velox = response.json()["velox"]
        assert (velox["direction"], velox["from_number"], velox["to_number"]) == expected


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"agent_id": "@sales"}, ["D", "B"]),
    ({"campaign_id": "@campaign"}, ["D", "B"]),
    ({"channel": "twilio"}, ["F", "E", "D", "A"]),
    ({"channel": "sip,websocket"}, ["C", "B"]),
    ({"channel": ["sip", "websocket"]}, ["C", "B"]),
    ({"direction": "outbound"}, ["D", "B"]),
    ({"direction": "inbound"}, ["F", "E", "C", "A"]),
    ({"status": "failed"}, ["D", "C"]),
    ({"status": "in-progress"}, ["F"]),
    ({"outcome": "meeting_booked"}, ["B"]),
    ({"outcome": "busy"}, ["D"]),  # the dial's outcome: nobody answered, nothing to analyse
    ({"outcome": "call_back,completed"}, ["E", "A"]),
    ({"sentiment": "negative"}, ["A"]),
    ({"sentiment": ["positive", "neutral"]}, ["E", "B"]),
    ({"call_successful": "success"}, ["B", "A"]),
    ({"call_successful": "failure"}, ["E"]),
    ({"call_successful": "unknown"}, ["F", "D", "C"]),
    ({"call_start_after_unix": unix(T0 + timedelta(hours=2))}, ["F", "E", "D", "C"]),
    ({"call_start_before_unix": unix(T0 + timedelta(hours=2))}, ["B", "A"]),
    (
        {
            "call_start_after_unix": unix(T0 + timedelta(hours=1)),
            "call_start_before_unix": unix(T0 + timedelta(hours=4)),
        },
        ["D", "C", "B"],
    ),
    ({"call_duration_min_secs": 42}, ["E", "B", "A"]),
    ({"call_duration_max_secs": 42}, ["D", "C", "A"]),
    ({"call_duration_min_secs": 50, "call_duration_max_secs": 100}, ["E"]),
    ({"phone_number": "+1 (555) 000-1111"}, ["E", "A"]),
    ({"phone_number": "+15550002222"}, ["B"]),  # the called number of an outbound call
    ({"interrupted": "true"}, ["E"]),
    ({"interrupted": "false"}, ["F", "D", "C", "B", "A"]),
    ({"channel": "twilio", "sentiment": "negative,neutral", "agent_id": "@reception"}, ["E", "A"]),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS, ids=[str(q) for q, _ in FILTERS])
def test_each_filter_keeps_exactly_the_calls_it_names(
    client: TestClient,
    tenant_a: Tenant,
    world: World,
    query: dict[str, Any],
    expected: list[str],
) -> None:
    names = {"@sales": world.sales, "@reception": world.reception, "@campaign": world.campaign_id}
    resolved = {
        key: names.get(value, value) if isinstance(value, str) else value
        for key, value in query.items()
    }
    assert listed(client, tenant_a, world, **resolved) == expected


SEARCHES: list[tuple[str, list[str]]] = [
    ("cancel", ["A"]),  # a word of the transcript
    ("CANCEL appointment", ["A"]),  # every word, any case
    ("cleaning", ["A"]),  # the analysis summary
    ('"call back"', ["E"]),  # a phrase, in the summary
    ('"back call"', []),  # the words, but not in that order
    ("refu*", ["E"]),  # a prefix
    ("smile dental", ["E", "A"]),
    ("tuesday demo", ["B"]),  # words from two turns
    ("where my", ["E"]),
    ("refund tuesday", []),  # every word must occur in the same call
    ("Ana's", []),  # "Ana's" is the phrase "ana s"
    ("velox.", ["B"]),  # punctuation splits like the index
]


@pytest.mark.parametrize(("search", "expected"), SEARCHES, ids=[s for s, _ in SEARCHES])
def test_search_finds_calls_by_transcript_and_summary(
    client: TestClient, tenant_a: Tenant, world: World, search: str, expected: list[str]
) -> None:
    assert listed(client, tenant_a, world, search=search) == expected


def test_search_combines_with_the_filters(
    client: TestClient, tenant_a: Tenant, world: World
) -> None:
    assert listed(client, tenant_a, world, search="smile", sentiment="negative") == ["A"]
    assert listed(client, tenant_a, world, search="smile", interrupted="true") == ["E"]


def test_search_operators_are_plain_words_inside_the_grammar(
    database: Database, client: TestClient, tenant_a: Tenant, world: World
) -> None:
    """AND, OR, NOT, NEAR are query keywords to FTS5; here they are words like any other."""
    with database.session() as session:
        said = "Not near the station, and not far, or so."
        call = finished_call(
            session,
            tenant_a.organization_id,
            world.reception,
            started_at=T0 - timedelta(days=1),
            turns=[Said("user", said)],
        )
    world.calls["G"] = call.id
    for search in ("NEAR station", "not OR", "and", '"near the station"'):
        assert listed(client, tenant_a, world, search=search) == ["G"], search


def test_search_follows_a_resave_an_analysis_and_a_deletion(
    database: Database, client: TestClient, tenant_a: Tenant, world: World
) -> None:
    org = tenant_a.organization_id
    with database.session() as session:
        call = finished_call(
            session,
            org,
            world.reception,
            started_at=T0 - timedelta(days=1),
            turns=[Said("user", "My parcel is lost.")],
        )
    world.calls["G"] = call.id
    assert listed(client, tenant_a, world, search="parcel") == ["G"]

    with database.session() as session:  # saved again (a retried save): turns replaced
        save_finished_call(
            session,
            org,
            call.id,
            agent_id=world.reception,
            status="done",
            termination_reason="caller hung up",
            started_at=T0 - timedelta(days=1),
            ended_at=T0 - timedelta(days=1) + timedelta(seconds=30),
            metrics={},
            turns=[
                {
                    "role": "user",
                    "message": "My suitcase is lost.",
                    "started_ms": 0,
                    "interrupted": False,
                    "source": "voice",
                    "metrics": {},
                }
            ],
            events=[],
        )
    assert listed(client, tenant_a, world, search="parcel") == []
    assert listed(client, tenant_a, world, search="suitcase") == ["G"]

    with database.session() as session:
        analyse(session, call.id, Analysed(summary="Lost luggage claim opened."))
    assert listed(client, tenant_a, world, search="luggage suitcase") == ["G"]

    with database.session() as session:
        session.execute(delete(Call).where(Call.id == call.id))
        assert session.get(Call, call.seq) is None
    assert listed(client, tenant_a, world, search="suitcase") == []


HOSTILE = [
    ("'; drop table calls; --", "search_syntax", "';'"),
    ('"unbalanced', "search_syntax", "never closed"),
    ("a & | !", "search_syntax", "'&'"),
    ("NEAR(", "search_syntax", "'('"),
    ("*", "search_syntax", "'*'"),
    ("ab*", "search_syntax", "at least 3"),
    ("x" * 201, "search_too_long", "at most 200"),
    ("...", "search_syntax", "no letter or digit"),
]


@pytest.mark.parametrize(("search", "reason", "says"), HOSTILE, ids=[h[0][:20] for h in HOSTILE])
def test_search_with_query_syntax_is_refused_with_the_reason_and_counted(
    client: TestClient, tenant_a: Tenant, world: World, search: str, reason: str, says: str
) -> None:
    before = REJECTED_QUERIES.labels(reason=reason)._value.get()

    response = client.get(LIST, params={"search": search}, headers=tenant_a.headers)

    assert response.status_code == 422
    assert response.json()["detail"]["status"] == reason
    assert says in response.json()["detail"]["message"]
    assert REJECTED_QUERIES.labels(reason=reason)._value.get() == before + 1


BAD_FILTERS = [
    ({"channel": "pstn"}, "unknown_filter_value", "'pstn'"),
    ({"status": "done,finished"}, "unknown_filter_value", "'finished'"),
    ({"outcome": "sold"}, "unknown_filter_value", "meeting_booked"),
    ({"sentiment": "angry"}, "unknown_filter_value", "negative"),
    ({"call_successful": "error"}, "unknown_filter_value", "success"),
    ({"direction": "sideways"}, "unknown_filter_value", "inbound"),
    ({"sort_direction": "up"}, "unknown_filter_value", "asc or desc"),
    ({"phone_number": "call me"}, "invalid_phone_number", "'call me'"),
    (
        {"call_start_after_unix": 2000, "call_start_before_unix": 1000},
        "invalid_range",
        "call_start_after_unix (2000)",
    ),
    (
        {"call_duration_min_secs": 60, "call_duration_max_secs": 30},
        "invalid_range",
        "call_duration_min_secs (60)",
    ),
    ({"cursor": "not-a-cursor"}, "invalid_cursor", "first page"),
]


@pytest.mark.parametrize(
    ("query", "reason", "says"), BAD_FILTERS, ids=[str(q) for q, *_ in BAD_FILTERS]
)
def test_an_unknown_filter_value_is_a_422_naming_it_and_counted(
    client: TestClient, tenant_a: Tenant, query: dict[str, Any], reason: str, says: str
) -> None:
    before = REJECTED_QUERIES.labels(reason=reason)._value.get()

    response = client.get(LIST, params=query, headers=tenant_a.headers)

    assert response.status_code == 422, response.text
    assert response.json()["detail"]["status"] == reason
    assert says in response.json()["detail"]["message"]
    assert REJECTED_QUERIES.labels(reason=reason)._value.get() == before + 1


@pytest.mark.parametrize(
    "query",
    [{"page_size": 0}, {"call_start_after_unix": "yesterday"}, {"interrupted": "maybe"}],
)
def test_a_parameter_of_the_wrong_type_is_a_422_and_counted(
    client: TestClient, tenant_a: Tenant, query: dict[str, Any]
) -> None:
    before = REJECTED_QUERIES.labels(reason="invalid_parameter")._value.get()

    response = client.get(LIST, params=query, headers=tenant_a.headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"
    assert REJECTED_QUERIES.labels(reason="invalid_parameter")._value.get() == before + 1


def test_pages_follow_the_cursor_to_the_end(
    client: TestClient, tenant_a: Tenant, world: World
) -> None:
    seen: list[str] = []
    cursor = ""
    while True:
        response = client.get(
            LIST, params={"page_size": 4, "cursor": cursor}, headers=tenant_a.headers
        )
        body = response.json()
        seen += [world.label(c["conversation_id"]) for c in body["conversations"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
    assert seen == ["F", "E", "D", "C", "B", "A"]


@pytest.mark.parametrize(
    ("direction", "first_page", "later_pages"),
    [
        # X1 starts at T0 + 1 h like B, and was stored after it: it sorts next to B.
        ("desc", ["F", "E", "D"], ["C", "X1", "B", "A"]),
        ("asc", ["A", "B", "C"], ["D", "E", "F", "X0", "X2"]),
    ],
)
def test_paging_stays_stable_while_calls_are_added(
    database: Database,
    client: TestClient,
    tenant_a: Tenant,
    world: World,
    direction: str,
    first_page: list[str],
    later_pages: list[str],
) -> None:
    """No call is shown twice or skipped; a call added meanwhile comes on a later page if its
    place is after the cursor, and on a fresh first page otherwise."""
    first = client.get(
        LIST, params={"page_size": 3, "sort_direction": direction}, headers=tenant_a.headers
    ).json()
    with database.session() as session:
        for label, at in (
            ("X0", T0 + timedelta(hours=6)),
            ("X1", T0 + timedelta(hours=1)),
            ("X2", T0 + timedelta(days=2)),
        ):
            call = finished_call(session, tenant_a.organization_id, world.sales, started_at=at)
            world.calls[label] = call.id
    rest = client.get(
        LIST,
        params={"page_size": 2, "sort_direction": direction, "cursor": first["next_cursor"]},
        headers=tenant_a.headers,
    )
    later = [world.label(c["conversation_id"]) for c in rest.json()["conversations"]]
    cursor = rest.json()["next_cursor"]
    while cursor:
        page = client.get(
            LIST,
            params={"page_size": 2, "sort_direction": direction, "cursor": cursor},
            headers=tenant_a.headers,
        ).json()
        later += [world.label(c["conversation_id"]) for c in page["conversations"]]
        cursor = page["next_cursor"]

    assert [world.label(c["conversation_id"]) for c in first["conversations"]] == first_page
    assert later == later_pages


def test_a_cursor_from_the_other_direction_is_refused(
    client: TestClient, tenant_a: Tenant, world: World
) -> None:
    cursor = client.get(LIST, params={"page_size": 2}, headers=tenant_a.headers).json()[
        "next_cursor"
    ]

    response = client.get(
        LIST, params={"cursor": cursor, "sort_direction": "asc"}, headers=tenant_a.headers
    )

    assert response.status_code == 422
    assert "sort_direction='desc'" in response.json()["detail"]["message"]


def test_another_organization_sees_none_of_the_calls(
    database: Database, client: TestClient, tenant_a: Tenant, tenant_b: Tenant, world: World
) -> None:
    with database.session() as session:
        own = finished_call(
            session,
            tenant_b.organization_id,
            agent(session, tenant_b.organization_id, "Globex desk"),
            started_at=T0,
            from_number="+15550001111",
            turns=[Said("user", "Cancel my appointment, please.")],
        )
    for query in (
        {},
        {"search": "cancel"},
        {"phone_number": "+15550001111"},
        {"agent_id": world.reception},
        {"campaign_id": world.campaign_id},
    ):
        response = client.get(LIST, params=query, headers=tenant_b.headers)
        ids = [c["conversation_id"] for c in response.json()["conversations"]]
        assert set(ids) <= {own.id}, query
    assert listed(client, tenant_a, world, search="cancel") == ["A"]
