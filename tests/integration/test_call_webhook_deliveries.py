"""A call's webhook deliveries: filed under the call when queued (and, by migration 0017, for
the rows stored before), listed for the call page per organization, each with its endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import webhooks as webhook_rows
from app.db.migrate import alembic_config, upgrade
from app.db.models import utc_now
from app.db.organizations import create_organization
from app.db.session import Database
from tests.integration.seeded_calls import agent, finished_call
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REVISION = "0017_webhook_delivery_call"


def endpoint(client: TestClient, tenant: Tenant, name: str, events: list[str]) -> str:
    body = {
        "settings": {"name": name, "webhook_url": f"https://{name.lower()}.example.com/hook"},
        "events": events,
    }
    response = client.post("/v1/workspace/webhooks", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    webhook_id: str = response.json()["webhook_id"]
    return webhook_id


def deliveries_of(client: TestClient, tenant: Tenant, call_id: str) -> list[dict[str, object]]:
    response = client.get(
        f"/v1/convai/conversations/{call_id}/webhook-deliveries", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    listed: list[dict[str, object]] = response.json()["deliveries"]
    return listed


def test_a_calls_deliveries_name_their_endpoint_and_how_each_try_went(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    crm = endpoint(client, tenant_a, "CRM", ["call_ended", "campaign_completed"])
    endpoint(client, tenant_a, "Billing", ["call_ended"])
    org = tenant_a.organization_id
    with database.session() as session:
        agent_id = agent(session, org, "Reception")
        call = finished_call(session, org, agent_id, started_at=T0).id
        other = finished_call(session, org, agent_id, started_at=T0 + timedelta(hours=1)).id
        # An event about no call is filed under none.
        webhook_rows.enqueue_event(session, org, "campaign_completed", {"campaign_id": "cmp_1"})
    with database.session() as session:
        # The first delivery queued (the call's, to CRM) is tried once and refused.
        claimed = webhook_rows.claim_next(session, utc_now(), timedelta(minutes=1))
        assert claimed is not None
        tried, _ = claimed
        assert tried.conversation_id == call
        tried_id = tried.id
        webhook_rows.record_attempt(
            session, tried.id, 1, status_code=503, error="busy", retry_at=utc_now()
        )

    listed = deliveries_of(client, tenant_a, call)

    assert [(d["event_type"], d["webhook_name"]) for d in listed] == [
        ("call_ended", "Billing"),
        ("call_ended", "CRM"),
    ]
    refused = listed[1]
    assert refused["delivery_id"] == tried_id
    assert refused["webhook_id"] == crm
    assert refused["webhook_url"] == "https://crm.example.com/hook"
    assert (refused["status"], refused["attempts"], refused["last_status_code"]) == (
        "pending",
        1,
        503,
    )
    assert refused["last_error"] == "busy"
    payload = refused["payload"]
    assert isinstance(payload, dict)
    assert payload["data"]["conversation_id"] == call
    assert listed[0]["attempts"] == 0
    assert [
        d["payload"]["data"]["conversation_id"] for d in deliveries_of(client, tenant_a, other)
    ] == [  # type: ignore[index]
        other,
        other,
    ]


def test_an_event_naming_no_call_velox_could_have_made_is_queued_and_filed_under_none(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    endpoint(client, tenant_a, "CRM", ["call_ended"])
    org = tenant_a.organization_id
    with database.session() as session:
        for odd in ("c" * 65, "", 42, None):
            assert webhook_rows.enqueue_event(session, org, "call_ended", {"conversation_id": odd})
    with database.session() as session:
        rows = session.execute(text("SELECT conversation_id FROM webhook_deliveries"))
        assert [conversation_id for (conversation_id,) in rows] == [None] * 4


def test_other_organizations_unknown_calls_and_strangers_are_refused(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant, database: Database
) -> None:
    endpoint(client, tenant_a, "CRM", ["call_ended"])
    with database.session() as session:
        org = tenant_a.organization_id
        call = finished_call(session, org, agent(session, org, "Reception"), started_at=T0).id
    path = f"/v1/convai/conversations/{call}/webhook-deliveries"

    assert client.get(path, headers=tenant_b.headers).status_code == 404
    unknown = "/v1/convai/conversations/conv_nobody/webhook-deliveries"
    assert client.get(unknown, headers=tenant_a.headers).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get(f"{path}?limit=0", headers=tenant_a.headers).status_code == 422
    assert len(deliveries_of(client, tenant_a, call)) == 1


def test_the_migration_files_the_deliveries_stored_before_it(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    database_file = make_url(empty_database_url).database
    if empty_database_url.startswith("sqlite") and database_file:
        Path(database_file).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(config, before)
    database = Database(empty_database_url)
    now = utc_now()
    try:
        with database.session() as session:
            organization, _ = create_organization(session, "Before")
            session.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, organization_id, name, url, "
                    "encrypted_secret, request_headers, events, is_disabled, retry_enabled, "
                    "created_at) VALUES ('whk_1', :org, 'CRM', 'https://crm.example.com', 'x', "
                    "'{}', '[]', false, true, :now)"
                ),
                {"org": organization.id, "now": now},
            )
            payloads = {
                "whd_call": {"type": "call_ended", "data": {"conversation_id": "conv_1"}},
                "whd_campaign": {"type": "campaign_completed", "data": {"campaign_id": "c"}},
                "whd_odd": {"type": "call_ended", "data": {"conversation_id": 7}},
            }
            for delivery_id, payload in payloads.items():
                session.execute(
                    text(
                        "INSERT INTO webhook_deliveries (id, endpoint_id, organization_id, "
                        "event_type, payload, status, attempts, next_attempt_at, last_error, "
                        "created_at) VALUES (:id, 'whk_1', :org, :type, :payload, 'delivered', "
                        "1, :now, '', :now)"
                    ),
                    {
                        "id": delivery_id,
                        "org": organization.id,
                        "type": payload["type"],
                        "payload": json.dumps(payload),
                        "now": now,
                    },
                )
    finally:
        database.dispose()

    upgrade(empty_database_url)

    database = Database(empty_database_url)
    try:
        with database.session() as session:
            rows = session.execute(text("SELECT id, conversation_id FROM webhook_deliveries"))
            filed = {delivery_id: conversation_id for delivery_id, conversation_id in rows}
    finally:
        database.dispose()
    assert filed == {"whd_call": "conv_1", "whd_campaign": None, "whd_odd": None}


def test_the_downgrade_removes_the_column_and_upgrade_brings_it_back(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    upgrade(empty_database_url)
    command.downgrade(config, before)
    database = Database(empty_database_url)
    try:
        with database.session() as session:
            columns = session.execute(text("SELECT * FROM webhook_deliveries")).keys()
    finally:
        database.dispose()
    assert "conversation_id" not in columns
    upgrade(empty_database_url)
