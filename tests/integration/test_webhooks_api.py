"""Webhook endpoints through the API, per organization; the secret is shown once and kept
encrypted; events are queued in the same transaction as what they report."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config.credentials import CredentialBox
from app.db import webhooks as webhook_rows
from app.db.models import WebhookEndpoint
from app.db.session import Database
from tests.api_app import TEST_SECRET
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

URL = "https://crm.example.com/hooks/velox"


def create(client: TestClient, tenant: Tenant, **extra: object) -> dict[str, str]:
    body = {"settings": {"auth_type": "hmac", "name": "CRM", "webhook_url": URL}, **extra}
    response = client.post("/v1/workspace/webhooks", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    created: dict[str, str] = response.json()
    return created


def test_an_endpoint_gets_every_event_by_default_and_its_secret_is_kept_encrypted(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    created = create(client, tenant_a)
    assert created["webhook_secret"].startswith("wsec_")
    [listed] = client.get("/v1/workspace/webhooks", headers=tenant_a.headers).json()["webhooks"]
    assert listed["events"] == list(webhook_rows.EVENT_TYPES)
    assert created["webhook_secret"] not in str(listed)
    with database.session() as session:
        stored = session.scalars(select(WebhookEndpoint)).one()
        assert created["webhook_secret"] not in stored.encrypted_secret
        box = CredentialBox(TEST_SECRET)
        assert box.decrypt(stored.encrypted_secret) == created["webhook_secret"]


def test_events_are_queued_only_for_enabled_endpoints_that_want_them(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant, database: Database
) -> None:
    ends = create(client, tenant_a, events=["call_ended"])["webhook_id"]
    everything = create(client, tenant_a)["webhook_id"]
    create(client, tenant_b)
    organization = tenant_a.organization_id
    with database.session() as session:
        assert webhook_rows.enqueue_event(session, organization, "call_started", {}) == 1
        assert webhook_rows.enqueue_event(session, organization, "call_ended", {}) == 2

    disabled = client.patch(
        f"/v1/workspace/webhooks/{everything}",
        json={"is_disabled": True},
        headers=tenant_a.headers,
    )
    assert disabled.json()["is_disabled"] is True
    with database.session() as session:
        assert webhook_rows.enqueue_event(session, organization, "call_ended", {}) == 1
    log = client.get(f"/v1/workspace/webhooks/{ends}/deliveries", headers=tenant_a.headers)
    assert [d["event_type"] for d in log.json()["deliveries"]] == ["call_ended", "call_ended"]
    assert {d["status"] for d in log.json()["deliveries"]} == {"pending"}


def test_bad_requests_are_refused_and_other_organizations_see_nothing(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    path = "/v1/workspace/webhooks"
    not_a_url = {"settings": {"name": "x", "webhook_url": "ftp://example.com/hook"}}
    assert client.post(path, json=not_a_url, headers=tenant_a.headers).status_code == 422
    unknown_event = {"settings": {"name": "x", "webhook_url": URL}, "events": ["everything"]}
    assert client.post(path, json=unknown_event, headers=tenant_a.headers).status_code == 422
    assert client.post(path, json={}, headers=tenant_a.headers).status_code == 422
    assert client.get(path).status_code == 401

    webhook_id = create(client, tenant_a)["webhook_id"]
    assert client.get(path, headers=tenant_b.headers).json() == {"webhooks": []}
    own = f"{path}/{webhook_id}"
    assert client.patch(own, json={"name": "x"}, headers=tenant_b.headers).status_code == 404
    assert client.delete(own, headers=tenant_b.headers).status_code == 404
    assert client.get(f"{own}/deliveries", headers=tenant_b.headers).status_code == 404
    assert client.delete(own, headers=tenant_a.headers).status_code == 204
    assert client.get(path, headers=tenant_a.headers).json() == {"webhooks": []}
