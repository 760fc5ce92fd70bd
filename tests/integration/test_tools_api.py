"""Webhook tools and secrets: created, listed, changed and deleted per organization, schemas
checked as JSON Schema, secrets encrypted and never read back, nothing in use deleted silently."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config.credentials import CredentialBox
from app.db import secrets as secret_queries
from app.db.session import Database
from app.observability.metrics import TOOL_CONFIGS_REFUSED
from tests.api_app import TEST_SECRET
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

SECRET_VALUE = "Bearer sk-live-7c1e9a0b2d"


def order_tool(name: str = "get_order_status", secret_id: str | None = None) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Source": "velox"}
    if secret_id is not None:
        headers["Authorization"] = {"secret_id": secret_id}
    return {
        "type": "webhook",
        "name": name,
        "description": "Look up an order's delivery status by its number.",
        "response_timeout_secs": 10,
        "api_schema": {
            "url": "https://orders.example.com/orders/{order_id}",
            "method": "GET",
            "request_headers": headers,
            "path_params_schema": {
                "order_id": {"type": "string", "description": "the order number"}
            },
            "query_params_schema": {
                "properties": {
                    "verbose": {"type": "boolean", "description": "include the items"},
                    "caller": {"type": "string", "dynamic_variable": "system__caller_id"},
                },
                "required": [],
            },
        },
        "assignments": [{"dynamic_variable": "order_eta", "value_path": "eta"}],
    }


def create_secret(client: TestClient, tenant: Tenant) -> str:
    response = client.post(
        "/v1/convai/secrets",
        json={"type": "new", "name": "orders-api", "value": SECRET_VALUE},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "stored"
    assert body["name"] == "orders-api"
    return str(body["secret_id"])


def create_tool(client: TestClient, tenant: Tenant, config: dict[str, Any]) -> str:
    response = client.post("/v1/convai/tools", json={"tool_config": config}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_a_tool_round_trips_in_elevenlabs_shape(client: TestClient, tenant_a: Tenant) -> None:
    tool_id = create_tool(client, tenant_a, order_tool())

    response = client.get(f"/v1/convai/tools/{tool_id}", headers=tenant_a.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == tool_id
    config = body["tool_config"]
    assert config["type"] == "webhook"
    assert config["name"] == "get_order_status"
    assert config["api_schema"]["url"] == "https://orders.example.com/orders/{order_id}"
    assert config["api_schema"]["path_params_schema"]["order_id"]["type"] == "string"
    assert config["assignments"][0]["value_path"] == "eta"
    assert body["usage_stats"] == {"total_calls": 0, "avg_latency_secs": 0.0}


def test_tools_are_listed_newest_first_searched_by_name_and_paged(
    client: TestClient, tenant_a: Tenant
) -> None:
    for name in ("book_slot", "check_order", "cancel_order"):
        create_tool(client, tenant_a, order_tool(name))

    page = client.get("/v1/convai/tools?page_size=2", headers=tenant_a.headers).json()
    rest = client.get(
        f"/v1/convai/tools?page_size=2&cursor={page['next_cursor']}", headers=tenant_a.headers
    ).json()
    found = client.get("/v1/convai/tools?search=c", headers=tenant_a.headers).json()

    assert [t["tool_config"]["name"] for t in page["tools"]] == ["cancel_order", "check_order"]
    assert page["has_more"] is True
    assert [t["tool_config"]["name"] for t in rest["tools"]] == ["book_slot"]
    assert {t["tool_config"]["name"] for t in found["tools"]} == {"cancel_order", "check_order"}


def test_tools_belong_to_one_organization(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    tool_id = create_tool(client, tenant_a, order_tool())

    assert client.get(f"/v1/convai/tools/{tool_id}", headers=tenant_b.headers).status_code == 404
    assert client.get("/v1/convai/tools", headers=tenant_b.headers).json()["tools"] == []
    assert client.delete(f"/v1/convai/tools/{tool_id}", headers=tenant_b.headers).status_code == 404


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            {
                "method": "POST",
                "request_body_schema": {"type": "object", "properties": {"n": {"type": "int"}}},
            },
            "not a valid JSON Schema",
        ),
        ({"url": "https://orders.example.com/orders/{order}"}, "path_params_schema"),
        ({"url": "ftp://orders.example.com/{order_id}"}, "http"),
        (
            {"request_body_schema": {"type": "object", "properties": {}}},
            "has no body",
        ),
    ],
)
def test_a_tool_whose_schemas_are_not_valid_is_refused_saying_why(
    client: TestClient, tenant_a: Tenant, change: dict[str, Any], complaint: str
) -> None:
    config = order_tool()
    config["api_schema"] = {**config["api_schema"], **change}
    refused_before = TOOL_CONFIGS_REFUSED._value.get()

    response = client.post(
        "/v1/convai/tools", json={"tool_config": config}, headers=tenant_a.headers
    )

    assert response.status_code == 422
    assert TOOL_CONFIGS_REFUSED._value.get() == refused_before + 1
    assert complaint in response.text
    assert client.get("/v1/convai/tools", headers=tenant_a.headers).json()["tools"] == []


def test_a_tool_naming_an_unknown_secret_or_a_taken_name_is_refused(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    others = create_secret(client, tenant_b)
    create_tool(client, tenant_a, order_tool())

    unknown = client.post(
        "/v1/convai/tools",
        json={"tool_config": order_tool("other", secret_id=others)},
        headers=tenant_a.headers,
    )
    taken = client.post(
        "/v1/convai/tools", json={"tool_config": order_tool()}, headers=tenant_a.headers
    )

    assert unknown.status_code == 422
    assert "no secret" in unknown.text
    assert taken.status_code == 422
    assert "already named" in taken.text


def test_an_update_replaces_the_configuration(client: TestClient, tenant_a: Tenant) -> None:
    tool_id = create_tool(client, tenant_a, order_tool())
    changed = order_tool("order_status")
    changed["response_timeout_secs"] = 30

    response = client.patch(
        f"/v1/convai/tools/{tool_id}", json={"tool_config": changed}, headers=tenant_a.headers
    )

    assert response.status_code == 200
    stored = client.get(f"/v1/convai/tools/{tool_id}", headers=tenant_a.headers).json()
    assert stored["tool_config"]["name"] == "order_status"
    assert stored["tool_config"]["response_timeout_secs"] == 30


def test_agents_name_tools_by_id_and_an_unknown_id_is_refused(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    tool_id = create_tool(client, tenant_a, order_tool())
    foreign = create_tool(client, tenant_b, order_tool())

    created = client.post(
        "/v1/convai/agents/create",
        json={"conversation_config": {"agent": {"prompt": {"tool_ids": [tool_id]}}}},
        headers=tenant_a.headers,
    )
    refused = client.post(
        "/v1/convai/agents/create",
        json={"conversation_config": {"agent": {"prompt": {"tool_ids": [foreign]}}}},
        headers=tenant_a.headers,
    )

    assert created.status_code == 200
    agent_id = created.json()["agent_id"]
    agent = client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers).json()
    assert agent["conversation_config"]["agent"]["prompt"]["tool_ids"] == [tool_id]
    assert refused.status_code == 422
    assert "no tool" in refused.text
    dependents = client.get(
        f"/v1/convai/tools/{tool_id}/dependent-agents", headers=tenant_a.headers
    ).json()
    assert [a["id"] for a in dependents["agents"]] == [agent_id]


def test_a_tool_in_use_is_deleted_only_with_force_which_takes_it_out_of_the_agent(
    client: TestClient, tenant_a: Tenant
) -> None:
    tool_id = create_tool(client, tenant_a, order_tool())
    agent_id = client.post(
        "/v1/convai/agents/create",
        json={"conversation_config": {"agent": {"prompt": {"tool_ids": [tool_id]}}}},
        headers=tenant_a.headers,
    ).json()["agent_id"]

    refused = client.delete(f"/v1/convai/tools/{tool_id}", headers=tenant_a.headers)
    forced = client.delete(f"/v1/convai/tools/{tool_id}?force=true", headers=tenant_a.headers)

    assert refused.status_code == 409
    assert agent_id in refused.text
    assert forced.status_code == 200
    assert client.get(f"/v1/convai/tools/{tool_id}", headers=tenant_a.headers).status_code == 404
    agent = client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers).json()
    assert agent["conversation_config"]["agent"]["prompt"]["tool_ids"] == []


def test_a_secret_is_encrypted_at_rest_and_never_returned(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    secret_id = create_secret(client, tenant_a)

    listing = client.get("/v1/convai/secrets", headers=tenant_a.headers)
    one = client.get(f"/v1/convai/secrets/{secret_id}", headers=tenant_a.headers)

    assert SECRET_VALUE not in listing.text
    assert SECRET_VALUE not in one.text
    assert [s["secret_id"] for s in listing.json()["secrets"]] == [secret_id]
    with database.session() as session:
        stored = secret_queries.encrypted_secrets(session, tenant_a.organization_id, [secret_id])
    assert SECRET_VALUE not in stored[secret_id]
    assert CredentialBox(TEST_SECRET).decrypt(stored[secret_id]) == SECRET_VALUE


def test_a_secret_can_be_renamed_and_given_a_new_value(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    secret_id = create_secret(client, tenant_a)

    response = client.patch(
        f"/v1/convai/secrets/{secret_id}",
        json={"type": "update", "name": "orders-api-v2", "value": "Bearer new-value-1234"},
        headers=tenant_a.headers,
    )

    assert response.status_code == 200
    assert response.json()["name"] == "orders-api-v2"
    with database.session() as session:
        stored = secret_queries.encrypted_secrets(session, tenant_a.organization_id, [secret_id])
    assert CredentialBox(TEST_SECRET).decrypt(stored[secret_id]) == "Bearer new-value-1234"


def test_a_secret_a_tool_uses_is_not_deleted_and_says_which_tool(
    client: TestClient, tenant_a: Tenant
) -> None:
    secret_id = create_secret(client, tenant_a)
    tool_id = create_tool(client, tenant_a, order_tool(secret_id=secret_id))

    refused = client.delete(f"/v1/convai/secrets/{secret_id}", headers=tenant_a.headers)
    used_by = client.get(f"/v1/convai/secrets/{secret_id}", headers=tenant_a.headers).json()

    assert refused.status_code == 409
    assert tool_id in refused.text
    assert [t["id"] for t in used_by["used_by"]["tools"]] == [tool_id]
    client.delete(f"/v1/convai/tools/{tool_id}", headers=tenant_a.headers)
    deleted = client.delete(f"/v1/convai/secrets/{secret_id}", headers=tenant_a.headers)
    assert deleted.status_code == 204
    assert client.get("/v1/convai/secrets", headers=tenant_a.headers).json()["secrets"] == []


def test_secrets_belong_to_one_organization(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    secret_id = create_secret(client, tenant_a)

    assert client.get("/v1/convai/secrets", headers=tenant_b.headers).json()["secrets"] == []
    assert (
        client.delete(f"/v1/convai/secrets/{secret_id}", headers=tenant_b.headers).status_code
        == 404
    )
