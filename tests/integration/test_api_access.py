"""API keys decide which organization a request acts for, and nothing crosses organizations."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.db.calls import create_call
from app.db.session import Database
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

AGENT_BODY = {"name": "Front desk", "conversation_config": {"agent": {"first_message": "Hi!"}}}


def create_agent(client: TestClient, tenant: Tenant, name: str = "Front desk") -> str:
    response = client.post(
        "/v1/convai/agents/create", json={**AGENT_BODY, "name": name}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    agent_id: str = response.json()["agent_id"]
    return agent_id


def test_request_without_a_key_is_rejected(client: TestClient) -> None:
    response = client.get("/v1/convai/agents")

    assert response.status_code == 401
    assert response.json()["detail"]["status"] == "invalid_api_key"


def test_request_with_an_unknown_key_is_rejected(client: TestClient, tenant_a: Tenant) -> None:
    response = client.get("/v1/convai/agents", headers={"xi-api-key": tenant_a.api_key + "x"})

    assert response.status_code == 401
    assert response.json()["detail"]["status"] == "invalid_api_key"


def test_bearer_token_authenticates(client: TestClient, tenant_a: Tenant) -> None:
    agent_id = create_agent(client, tenant_a)

    response = client.get(
        f"/v1/convai/agents/{agent_id}", headers={"Authorization": f"Bearer {tenant_a.api_key}"}
    )

    assert response.status_code == 200
    assert response.json()["agent_id"] == agent_id


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_organizations_agent_is_not_found(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant, method: str
) -> None:
    agent_id = create_agent(client, tenant_a)

    response = client.request(
        method,
        f"/v1/convai/agents/{agent_id}",
        headers=tenant_b.headers,
        json={"name": "Stolen"} if method == "PATCH" else None,
    )

    assert response.status_code == 404
    assert response.json()["detail"]["status"] == "agent_not_found"
    still_there = client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers)
    assert still_there.json()["name"] == "Front desk"


def test_agent_list_shows_only_the_callers_organization(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    mine = create_agent(client, tenant_a, "Mine")
    create_agent(client, tenant_b, "Theirs")

    response = client.get("/v1/convai/agents", headers=tenant_a.headers)

    assert [agent["agent_id"] for agent in response.json()["agents"]] == [mine]


def test_another_organizations_conversation_is_not_found_or_listed(
    client: TestClient, database: Database, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    agent_id = create_agent(client, tenant_a)
    with database.session() as session:
        call = create_call(
            session, tenant_a.organization_id, agent_id=agent_id, direction="inbound", channel="web"
        )

    single = client.get(f"/v1/convai/conversations/{call.id}", headers=tenant_b.headers)
    listed = client.get("/v1/convai/conversations", headers=tenant_b.headers)
    own = client.get("/v1/convai/conversations", headers=tenant_a.headers)

    assert single.status_code == 404
    assert single.json()["detail"]["status"] == "conversation_not_found"
    assert listed.json()["conversations"] == []
    assert [c["conversation_id"] for c in own.json()["conversations"]] == [call.id]


def test_another_organizations_phone_number_cannot_be_reassigned(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    agent_id = create_agent(client, tenant_a)
    created = client.post(
        "/v1/convai/phone-numbers",
        json={"phone_number": "+15550003333", "label": "Main", "agent_id": agent_id},
        headers=tenant_a.headers,
    )
    number_id = created.json()["phone_number_id"]

    response = client.patch(
        f"/v1/convai/phone-numbers/{number_id}", json={"agent_id": None}, headers=tenant_b.headers
    )

    assert response.status_code == 404
    mine = client.get(f"/v1/convai/phone-numbers/{number_id}", headers=tenant_a.headers)
    assert mine.json()["assigned_agent"] == {"agent_id": agent_id, "agent_name": "Front desk"}
