"""A business's server gets a browser-safe conversation URL; each one works once."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.config.signed_urls import verify
from app.db.conversation_tokens import use_token
from app.db.session import Database
from tests.api_app import TEST_SECRET
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def create_agent(client: TestClient, tenant: Tenant) -> str:
    response = client.post(
        "/v1/convai/agents/create", json={"conversation_config": {}}, headers=tenant.headers
    )
    agent_id: str = response.json()["agent_id"]
    return agent_id


def test_signed_url_points_at_the_conversation_socket_with_a_valid_token(
    client: TestClient, tenant_a: Tenant
) -> None:
    agent_id = create_agent(client, tenant_a)
    response = client.get(
        "/v1/convai/conversation/get-signed-url",
        params={"agent_id": agent_id},
        headers=tenant_a.headers,
    )
    assert response.status_code == 200
    url = urlsplit(response.json()["signed_url"])
    assert (url.scheme, url.netloc, url.path) == (
        "wss",
        "velox.example.com",
        "/v1/convai/conversation",
    )
    query = parse_qs(url.query)
    assert query["agent_id"] == [agent_id]
    claims = verify(TEST_SECRET, query["conversation_signature"][0], agent_id)
    assert claims.organization_id == tenant_a.organization_id


def test_signed_url_for_another_organizations_agent_is_404(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    agent_id = create_agent(client, tenant_a)
    response = client.get(
        "/v1/convai/conversation/get-signed-url",
        params={"agent_id": agent_id},
        headers=tenant_b.headers,
    )
    assert response.status_code == 404
    unauthenticated = client.get(
        "/v1/convai/conversation/get-signed-url", params={"agent_id": agent_id}
    )
    assert unauthenticated.status_code == 401


def test_a_token_can_be_used_only_once(database: Database, tenant_a: Tenant) -> None:
    expires = int(datetime.now(UTC).timestamp()) + 60
    with database.session() as session:
        assert use_token(session, "tok_1", tenant_a.organization_id, expires)
    with database.session() as session:
        assert not use_token(session, "tok_1", tenant_a.organization_id, expires)
        assert use_token(session, "tok_2", tenant_a.organization_id, expires)
