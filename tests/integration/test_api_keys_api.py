"""API keys through `/v1/api-keys`: shown once, listed by prefix, revoked at once, scoped, and
each organization's own; and the audit log narrowed by action, target and actor."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.db import organizations as org_queries
from app.db.session import Database
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def test_a_created_key_is_shown_once_and_works_until_revoked(
    client: TestClient, tenant_a: Tenant
) -> None:
    created = client.post(
        "/v1/api-keys", json={"name": "CRM sync"}, headers=tenant_a.headers
    ).json()
    key = created["api_key"]
    assert key.startswith(created["key_prefix"])
    assert created["scopes"] is None

    listing = client.get("/v1/api-keys", headers=tenant_a.headers)
    assert key not in listing.text
    names = [(k["name"], k["revoked_at_unix_secs"]) for k in listing.json()["api_keys"]]
    assert ("CRM sync", None) in names
    assert client.get("/v1/convai/agents", headers={"xi-api-key": key}).status_code == 200

    revoked = client.delete(f"/v1/api-keys/{created['key_id']}", headers=tenant_a.headers)
    assert revoked.status_code == 204
    assert client.get("/v1/convai/agents", headers={"xi-api-key": key}).status_code == 401
    [row] = [
        k
        for k in client.get("/v1/api-keys", headers=tenant_a.headers).json()["api_keys"]
        if k["key_id"] == created["key_id"]
    ]
    assert row["revoked_at_unix_secs"] is not None


def test_a_key_with_scopes_may_do_only_what_they_name(client: TestClient, tenant_a: Tenant) -> None:
    body = {"name": "reports", "scopes": ["calls:read", "analytics:read"]}
    key = client.post("/v1/api-keys", json=body, headers=tenant_a.headers).json()
    assert key["scopes"] == ["analytics:read", "calls:read"]
    headers = {"xi-api-key": key["api_key"]}

    assert client.get("/v1/convai/conversations", headers=headers).status_code == 200
    assert client.get("/v1/convai/agents", headers=headers).status_code == 403


def test_an_unknown_scope_or_an_empty_name_is_refused_by_field(
    client: TestClient, tenant_a: Tenant
) -> None:
    refused = client.post(
        "/v1/api-keys",
        json={"name": "", "scopes": ["calls:read", "root"]},
        headers=tenant_a.headers,
    )
    assert refused.status_code == 422
    fields = {tuple(error["loc"]) for error in refused.json()["detail"]}
    assert ("body", "name") in fields
    assert ("body", "scopes", 1) in fields


def test_a_scoped_key_cannot_create_a_key_that_may_do_more(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    with database.session() as session:
        _, key = org_queries.create_api_key(
            session, tenant_a.organization_id, "keys only", scopes=["api_keys", "calls:read"]
        )
    headers = {"xi-api-key": key}

    wider = client.post("/v1/api-keys", json={"name": "everything"}, headers=headers)
    assert wider.status_code == 403
    assert wider.json()["detail"]["status"] == "scope_exceeds_key"
    narrower = client.post(
        "/v1/api-keys", json={"name": "calls", "scopes": ["calls:read"]}, headers=headers
    )
    assert narrower.status_code == 201


def test_keys_of_one_organization_are_invisible_to_another(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    created = client.post("/v1/api-keys", json={"name": "a's"}, headers=tenant_a.headers).json()

    listed = client.get("/v1/api-keys", headers=tenant_b.headers).json()["api_keys"]
    assert created["key_id"] not in [k["key_id"] for k in listed]
    gone = client.delete(f"/v1/api-keys/{created['key_id']}", headers=tenant_b.headers)
    assert gone.status_code == 404
    assert client.get("/v1/me", headers={"xi-api-key": created["api_key"]}).status_code == 200


def test_the_audit_log_is_narrowed_by_action_target_and_actor(
    client: TestClient, tenant_a: Tenant
) -> None:
    created = client.post("/v1/api-keys", json={"name": "ci"}, headers=tenant_a.headers).json()
    client.delete(f"/v1/api-keys/{created['key_id']}", headers=tenant_a.headers)
    client.post("/v1/do-not-call", json={"phone_number": "+14155550100"}, headers=tenant_a.headers)

    def audit(**query: str) -> list[tuple[str, str]]:
        response = client.get("/v1/audit", params=query, headers=tenant_a.headers)
        assert response.status_code == 200, response.text
        return [(e["action"], e["target_type"]) for e in response.json()["entries"]]

    assert audit(target_type="api_key") == [("deleted", "api_key"), ("created", "api_key")]
    assert audit(action="created", target_type="do_not_call") == [("created", "do_not_call")]
    assert audit(actor="API_KEY:DEFAULT") == audit()
    assert audit(actor="nobody%") == []
    bad = client.get("/v1/audit", params={"target_type": "Robert'); --"}, headers=tenant_a.headers)
    assert bad.status_code == 422
