"""`GET /v1/convai/conversations/export`: the filtered list as CSV, streamed; its header, its
escaping, cells a spreadsheet would run as formulas, and one organization's calls only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from app.db.call_export import COLUMNS
from app.db.call_search import CallFilters, export_rows
from app.db.session import Database
from tests.api_app import build_api_app
from tests.integration.seeded_calls import (
    Analysed,
    Said,
    agent,
    campaign,
    dial,
    finished_call,
    lead,
    unanswered_call,
)
from tests.live_server import free_port, serve
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXPORT = "/v1/convai/conversations/export"


def exported(client: TestClient, tenant: Tenant, **query: str) -> list[dict[str, str]]:
    response = client.get(EXPORT, params=query, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
def calls(database: Database, tenant_a: Tenant) -> dict[str, str]:
    org = tenant_a.organization_id
    with database.session() as session:
        reception = agent(session, org, "=Reception, front desk")
        sales = agent(session, org, "Sales")
        camp = campaign(session, org, sales, "+15559990000")
        plain = finished_call(
            session,
            org,
            reception,
            started_at=T0,
            duration_secs=42.4,
            from_number="+15550001111",
            termination_reason="-caller hung up",
            turns=[
                Said("agent", "Hello", interrupted=True),
                Said("user", "Hi", voice_to_voice_ms=800),
            ],
            analysis=Analysed(
                'She said "no, thanks",\nthen hung up.', "negative", "not_interested", "failure"
            ),
        )
        busy = unanswered_call(session, org, sales, placed_at=T0 + timedelta(hours=1))
        lead_id = lead(session, org, camp, "+15550003333")
        dial(
            session,
            org,
            camp,
            lead_id,
            number=1,
            outcome="busy",
            dialed_at=T0,
            conversation_id=busy.id,
        )
    return {"plain": plain.id, "busy": busy.id, "campaign": camp}


def test_the_header_names_every_column_then_one_line_per_call(
    client: TestClient, tenant_a: Tenant, calls: dict[str, str]
) -> None:
    response = client.get(EXPORT, headers=tenant_a.headers)

    assert response.text.splitlines()[0] == ",".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["conversation_id"] for row in rows] == [calls["busy"], calls["plain"]]
    assert response.headers["content-disposition"] == 'attachment; filename="conversations.csv"'


def test_a_row_holds_the_call_its_analysis_and_its_campaign(
    client: TestClient, tenant_a: Tenant, calls: dict[str, str]
) -> None:
    plain, busy = exported(client, tenant_a, sort_direction="asc")

    assert plain == {
        "conversation_id": calls["plain"],
        "start_time": "2026-03-02T09:00:00Z",
        "start_time_unix_secs": str(int(T0.timestamp())),
        "call_duration_secs": "42",
        "status": "done",
        "direction": "inbound",
        "channel": "twilio",
        "agent_id": plain["agent_id"],
        # Starts with "=": written so that a spreadsheet shows it instead of running it.
        "agent_name": "'=Reception, front desk",
        "from_number": "+15550001111",  # a plain number keeps its "+"
        "to_number": "+15559990000",
        "campaign_id": "",
        "message_count": "2",
        "interrupted_turns": "1",
        "call_successful": "failure",
        "outcome": "not_interested",
        "sentiment": "negative",
        "termination_reason": "'-caller hung up",
        "summary": 'She said "no, thanks",\nthen hung up.',  # quotes, comma, newline intact
    }
    assert (busy["campaign_id"], busy["outcome"], busy["status"]) == (
        calls["campaign"],
        "busy",
        "failed",
    )
    assert (busy["call_duration_secs"], busy["call_successful"], busy["sentiment"]) == (
        "0",
        "unknown",
        "",
    )


def test_both_databases_write_the_same_bytes_as_pythons_csv_writer(
    client: TestClient, tenant_a: Tenant, calls: dict[str, str]
) -> None:
    # PostgreSQL writes its CSV itself (COPY): its quoting, empty cells and line ends must be
    # those Python's writer gives on SQLite, byte for byte.
    body = client.get(EXPORT, headers=tenant_a.headers).text
    rows = list(csv.reader(io.StringIO(body)))
    again = io.StringIO()
    csv.writer(again, lineterminator="\n").writerows(rows)
    assert body == again.getvalue()
    assert len(rows) == 3


def test_the_export_takes_the_list_filters(
    client: TestClient, tenant_a: Tenant, calls: dict[str, str]
) -> None:
    assert [r["conversation_id"] for r in exported(client, tenant_a, direction="outbound")] == [
        calls["busy"]
    ]
    assert [r["conversation_id"] for r in exported(client, tenant_a, search="hung")] == [
        calls["plain"]
    ]
    assert exported(client, tenant_a, campaign_id=calls["campaign"], status="done") == []


def test_a_bad_filter_is_refused_before_anything_is_streamed(
    client: TestClient, tenant_a: Tenant, calls: dict[str, str]
) -> None:
    response = client.get(EXPORT, params={"search": "a;b"}, headers=tenant_a.headers)

    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "search_syntax"


def test_another_organization_exports_only_its_header(
    client: TestClient, tenant_b: Tenant, calls: dict[str, str]
) -> None:
    assert exported(client, tenant_b) == []
    assert exported(client, tenant_b, campaign_id=calls["campaign"]) == []


def test_rows_come_from_the_database_in_batches(
    database: Database, tenant_a: Tenant, calls: dict[str, str]
) -> None:
    with database.session() as session:
        org = tenant_a.organization_id
        sales = agent(session, org, "More")
        for n in range(3):
            finished_call(session, org, sales, started_at=T0 - timedelta(days=n + 1))
    with database.session() as session:
        batches = [
            len(batch)
            for batch in export_rows(session, tenant_a.organization_id, CallFilters(), batch_size=2)
        ]
    assert batches == [2, 2, 1]


@pytest.fixture
def server_url(database: Database) -> Iterator[str]:
    with serve(build_api_app(database), free_port()) as url:
        yield url


def test_the_csv_is_streamed_in_chunks_without_a_length(
    server_url: str, tenant_a: Tenant, calls: dict[str, str]
) -> None:
    with httpx.stream("GET", server_url + EXPORT, headers=tenant_a.headers) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        body = b"".join(response.iter_raw()).decode()
    assert len(list(csv.DictReader(io.StringIO(body)))) == 2
