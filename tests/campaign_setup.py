"""A campaign made through the API, as a sales manager makes one: an agent, its number, the
campaign (draft)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.tenants import Tenant


def campaign_with_a_number(
    client: TestClient,
    tenant: Tenant,
    number: str = "+12125550155",
    settings: dict[str, object] | None = None,
) -> tuple[str, str]:
    """The draft campaign's id and its agent's id (`settings` as the API takes them)."""
    agent_id: str = client.post(
        "/v1/convai/agents/create",
        json={"name": "Rep", "conversation_config": {}},
        headers=tenant.headers,
    ).json()["agent_id"]
    number_id = client.post(
        "/v1/convai/phone-numbers",
        json={"phone_number": number, "label": "sales", "agent_id": agent_id},
        headers=tenant.headers,
    ).json()["phone_number_id"]
    body = {
        "name": "Spring visits",
        "agent_id": agent_id,
        "agent_phone_number_id": number_id,
        "settings": {"default_region": "US", **(settings or {})},
    }
    response = client.post("/v1/campaigns", json=body, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text
    campaign_id: str = response.json()["campaign_id"]
    return campaign_id, agent_id
