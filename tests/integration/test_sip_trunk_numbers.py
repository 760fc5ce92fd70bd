"""SIP-trunk phone numbers through the API: registered with their agent and trunk configurations,
passwords encrypted at rest and never shown."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config.credentials import CredentialBox
from app.config.sip_trunks import inbound_trunk
from app.db.models import PhoneNumber
from app.db.session import Database
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


def _create(client: TestClient, tenant: Tenant, number: str, **body: object) -> str:
    created = client.post(
        "/v1/convai/phone-numbers",
        json={"phone_number": number, "provider": "sip_trunk", **body},
        headers=tenant.headers,
    )
    assert created.status_code == 200, created.text
    return str(created.json()["phone_number_id"])


def _get(client: TestClient, tenant: Tenant, number_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/convai/phone-numbers/{number_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_trunk_configs_are_shown_without_their_passwords(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    number_id = _create(
        client,
        tenant_a,
        "+15550007780",
        inbound_trunk_config={
            "allowed_addresses": ["192.0.2.0/24", "198.51.100.7"],
            "allowed_numbers": ["+15551230000"],
            "credentials": {"username": "acme", "password": "s3cret-in"},
        },
        outbound_trunk_config={
            "address": "sip.carrier.example:5080",
            "transport": "udp",
            "headers": {"X-Account": "42"},
            "credentials": {"username": "acme-out", "password": "s3cret-out"},
            "enabled_codecs": ["PCMA/8000"],
        },
    )
    shown = _get(client, tenant_a, number_id)
    assert shown["inbound_trunk"] == {
        "allowed_addresses": ["192.0.2.0/24", "198.51.100.7/32"],
        "allowed_numbers": ["+15551230000"],
        "media_encryption": "disabled",
        "has_auth_credentials": True,
        "username": "acme",
        "remote_domains": None,
        "attributes_to_headers": None,
    }
    assert shown["outbound_trunk"]["address"] == "sip.carrier.example:5080"
    assert shown["outbound_trunk"]["username"] == "acme-out"
    assert shown["outbound_trunk"]["has_auth_credentials"] is True
    assert shown["provider_config"] == shown["outbound_trunk"]
    listed = client.get("/v1/convai/phone-numbers", headers=tenant_a.headers).text
    assert "s3cret" not in listed
    assert "s3cret" not in str(shown)
    with database.session() as session:
        stored = session.scalar(select(PhoneNumber).where(PhoneNumber.id == number_id))
        assert stored is not None
        assert stored.inbound_trunk is not None
        assert "s3cret" not in str(stored.inbound_trunk) + str(stored.outbound_trunk)
        box = CredentialBox(bytes.fromhex(client.app.state.settings.secret_key))  # type: ignore[attr-defined]
        trunk = inbound_trunk(stored.inbound_trunk, box)
    assert trunk.credentials is not None
    assert trunk.credentials.password == "s3cret-in"


def test_an_update_without_a_password_keeps_the_stored_one(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    agent_id = create_agent(client, tenant_a)
    number_id = _create(
        client,
        tenant_a,
        "+15550007781",
        agent_id=agent_id,
        inbound_trunk_config={"credentials": {"username": "acme", "password": "first-pass"}},
    )
    changed = client.patch(
        f"/v1/convai/phone-numbers/{number_id}",
        json={
            "inbound_trunk_config": {
                "allowed_addresses": ["203.0.113.0/24"],
                "credentials": {"username": "acme"},
            }
        },
        headers=tenant_a.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["inbound_trunk"]["allowed_addresses"] == ["203.0.113.0/24"]
    assert changed.json()["inbound_trunk"]["has_auth_credentials"] is True
    # Fields left out stay as they were: the agent is still assigned.
    assert changed.json()["assigned_agent"]["agent_id"] == agent_id
    with database.session() as session:
        stored = session.scalar(select(PhoneNumber).where(PhoneNumber.id == number_id))
        assert stored is not None
        box = CredentialBox(bytes.fromhex(client.app.state.settings.secret_key))  # type: ignore[attr-defined]
        trunk = inbound_trunk(stored.inbound_trunk, box)
    assert trunk.credentials is not None
    assert trunk.credentials.password == "first-pass"


def test_a_new_username_without_a_password_is_refused(client: TestClient, tenant_a: Tenant) -> None:
    number_id = _create(
        client,
        tenant_a,
        "+15550007782",
        inbound_trunk_config={"credentials": {"username": "acme", "password": "first-pass"}},
    )
    response = client.patch(
        f"/v1/convai/phone-numbers/{number_id}",
        json={"inbound_trunk_config": {"credentials": {"username": "someone-else"}}},
        headers=tenant_a.headers,
    )
    assert response.status_code == 422
    assert "need a password" in response.json()["detail"]["message"]


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"inbound_trunk_config": {"media_encryption": "required"}}, "SRTP"),
        (
            {"outbound_trunk_config": {"address": "sip.example", "media_encryption": "required"}},
            "SRTP",
        ),
        ({"outbound_trunk_config": {"address": "sip.example", "transport": "tls"}}, "UDP"),
        (
            {"outbound_trunk_config": {"address": "sip.example", "enabled_codecs": ["G722/8000"]}},
            "G.711",
        ),
    ],
)
def test_what_velox_cannot_honour_is_refused_clearly(
    client: TestClient, tenant_a: Tenant, config: dict[str, Any], words: str
) -> None:
    response = client.post(
        "/v1/convai/phone-numbers",
        json={"phone_number": "+15550007783", "provider": "sip_trunk", **config},
        headers=tenant_a.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "trunk_config_unsupported"
    assert words in response.json()["detail"]["message"]
    assert client.get("/v1/convai/phone-numbers", headers=tenant_a.headers).json() == []


def test_an_address_that_is_not_an_ip_or_cidr_is_422(client: TestClient, tenant_a: Tenant) -> None:
    response = client.post(
        "/v1/convai/phone-numbers",
        json={
            "phone_number": "+15550007784",
            "provider": "sip_trunk",
            "inbound_trunk_config": {"allowed_addresses": ["10.0.0.0/33"]},
        },
        headers=tenant_a.headers,
    )
    assert response.status_code == 422
    assert "CIDR" in response.text


def test_a_twilio_number_takes_no_trunk_config(client: TestClient, tenant_a: Tenant) -> None:
    response = client.post(
        "/v1/convai/phone-numbers",
        json={
            "phone_number": "+15550007785",
            "provider": "twilio",
            "inbound_trunk_config": {"allowed_addresses": ["192.0.2.0/24"]},
        },
        headers=tenant_a.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "trunk_config_not_sip_trunk"
