"""SIP-trunk phone numbers through the API: registered with their agent, trunk configs refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_api_access import create_agent
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def test_a_sip_trunk_number_is_registered_with_its_agent(
    client: TestClient, tenant_a: Tenant
) -> None:
    agent_id = create_agent(client, tenant_a)
    created = client.post(
        "/v1/convai/phone-numbers",
        json={"phone_number": "+15550007777", "provider": "sip_trunk", "agent_id": agent_id},
        headers=tenant_a.headers,
    )
    assert created.status_code == 200, created.text
    number = client.get(
        f"/v1/convai/phone-numbers/{created.json()['phone_number_id']}", headers=tenant_a.headers
    ).json()
    assert number["provider"] == "sip_trunk"
    assert number["assigned_agent"]["agent_id"] == agent_id


def test_a_trunk_config_is_refused_rather_than_ignored(
    client: TestClient, tenant_a: Tenant
) -> None:
    response = client.post(
        "/v1/convai/phone-numbers",
        json={
            "phone_number": "+15550007778",
            "provider": "sip_trunk",
            "inbound_trunk_config": {"allowed_addresses": ["192.0.2.0/24"]},
        },
        headers=tenant_a.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "trunk_config_unsupported"
    listed = client.get("/v1/convai/phone-numbers", headers=tenant_a.headers).json()
    assert listed == []
