"""Provider keys are stored encrypted per organization and never shown again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config.credentials import CredentialBox, CredentialError
from app.db import provider_credentials as credential_queries
from app.db.session import Database
from tests.api_app import TEST_SECRET
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

KEY = "dg-secret-0123456789abcdef"


def statuses(client: TestClient, tenant: Tenant) -> dict[str, bool]:
    response = client.get("/v1/provider-keys", headers=tenant.headers)
    assert response.status_code == 200
    return {item["provider"]: item["is_set"] for item in response.json()["provider_keys"]}


def test_a_set_key_is_reported_as_set_and_never_returned(
    client: TestClient, tenant_a: Tenant
) -> None:
    assert statuses(client, tenant_a)["deepgram"] is False
    response = client.put(
        "/v1/provider-keys/deepgram", json={"api_key": KEY}, headers=tenant_a.headers
    )
    assert response.status_code == 200
    assert KEY not in response.text
    assert statuses(client, tenant_a)["deepgram"] is True
    listing = client.get("/v1/provider-keys", headers=tenant_a.headers).text
    assert KEY not in listing


def test_keys_are_encrypted_at_rest_and_decrypt_with_the_service_secret(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    client.put("/v1/provider-keys/groq", json={"api_key": KEY}, headers=tenant_a.headers)
    with database.session() as session:
        stored = credential_queries.encrypted_keys(session, tenant_a.organization_id)
    assert KEY not in stored["groq"]
    assert CredentialBox(TEST_SECRET).decrypt(stored["groq"]) == KEY
    with pytest.raises(CredentialError, match="VELOX_SECRET_KEY"):
        CredentialBox(b"another secret").decrypt(stored["groq"])


def test_keys_belong_to_one_organization(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    client.put("/v1/provider-keys/cartesia", json={"api_key": KEY}, headers=tenant_a.headers)
    assert statuses(client, tenant_b)["cartesia"] is False
    assert client.delete("/v1/provider-keys/cartesia", headers=tenant_b.headers).status_code == 404


def test_a_key_can_be_replaced_and_deleted(client: TestClient, tenant_a: Tenant) -> None:
    headers = tenant_a.headers
    client.put("/v1/provider-keys/elevenlabs", json={"api_key": KEY}, headers=headers)
    client.put("/v1/provider-keys/elevenlabs", json={"api_key": KEY + "2"}, headers=headers)
    assert client.delete("/v1/provider-keys/elevenlabs", headers=headers).status_code == 204
    assert statuses(client, tenant_a)["elevenlabs"] is False


def test_unknown_providers_and_short_keys_are_refused(client: TestClient, tenant_a: Tenant) -> None:
    unknown = client.put("/v1/provider-keys/acme", json={"api_key": KEY}, headers=tenant_a.headers)
    assert unknown.status_code == 404
    assert "deepgram" in unknown.text
    short = client.put("/v1/provider-keys/groq", json={"api_key": "x"}, headers=tenant_a.headers)
    assert short.status_code == 422
