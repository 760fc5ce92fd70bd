"""No request body gets a 500 (issue 13, classes 4 and 5): what cannot be held is a 422 that says
why, what is too large a 413, and a rejected value that cannot be echoed is still answered."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from app.api.body_limits import MAX_JSON_BYTES
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def post_raw(client: TestClient, path: str, raw: str | bytes, tenant: Tenant) -> tuple[int, dict]:
    response = client.post(
        path,
        content=raw,
        headers={**tenant.headers, "content-type": "application/json"},
    )
    return response.status_code, response.json()


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_a_number_json_cannot_hold_is_a_422(
    client: TestClient, tenant_a: Tenant, number: str
) -> None:
    status, body = post_raw(client, "/v1/do-not-call", f'{{"phone_number": {number}}}', tenant_a)
    assert status == 422, body
    assert body["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("path", "raw", "where"),
    [
        ("/v1/convai/agents/create", '{"name": "\\ud800x"}', ["body", "name"]),
        (
            "/v1/do-not-call",
            '{"phone_number": "+15550100000", "note": "\\udfff"}',
            ["body", "note"],
        ),
        (
            "/v1/convai/phone-numbers",
            '{"phone_number": "+15550100000", "label": "a\\ud83d"}',
            ["body", "label"],
        ),
        ("/v1/convai/agents/create", '{"tags": ["ok", "\\ud800"]}', ["body", "tags", 1]),
        ("/v1/convai/agents/create", '{"\\ud800": 1}', ["body"]),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_a_422_naming_where(
    client: TestClient, tenant_a: Tenant, path: str, raw: str, where: list[object]
) -> None:
    status, body = post_raw(client, path, raw, tenant_a)
    assert status == 422, body
    assert body["detail"][0]["loc"] == where
    assert "surrogate" in body["detail"][0]["msg"]


def test_a_webhook_name_with_a_lone_surrogate_is_a_422(
    client: TestClient, tenant_a: Tenant
) -> None:
    raw = '{"settings": {"name": "\\ud800", "webhook_url": "https://example.com/hook"}}'
    status, body = post_raw(client, "/v1/workspace/webhooks", raw, tenant_a)
    assert status == 422, body


def test_a_provider_key_with_a_lone_surrogate_is_a_422(
    client: TestClient, tenant_a: Tenant
) -> None:
    response = client.put(
        "/v1/provider-keys/groq",
        content='{"api_key": "gsk_\\ud800"}',
        headers={**tenant_a.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("depth", [40, 500])
def test_a_body_nested_past_the_limit_is_a_422(
    client: TestClient, tenant_a: Tenant, depth: int
) -> None:
    nested = '{"x": ' * depth + "1" + "}" * depth
    raw = f'{{"platform_settings": {nested}}}'
    status, body = post_raw(client, "/v1/convai/agents/create", raw, tenant_a)
    assert status == 422, body
    assert "nests deeper" in body["detail"][0]["msg"]


def test_a_json_body_over_the_cap_is_a_413_by_its_length(
    client: TestClient, tenant_a: Tenant
) -> None:
    raw = json.dumps({"name": "x", "tags": ["y" * 1000] * (MAX_JSON_BYTES // 1000 + 10)})
    status, body = post_raw(client, "/v1/convai/agents/create", raw, tenant_a)
    assert status == 413, body
    assert body["detail"]["status"] == "body_too_large"


def test_a_json_body_over_the_cap_without_a_length_is_a_413(
    client: TestClient, tenant_a: Tenant
) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "x", "tags": ['
        for _ in range(MAX_JSON_BYTES // 1000 + 10):
            yield b'"' + b"y" * 1000 + b'",'
        yield b'"z"]}'

    response = client.post(
        "/v1/convai/agents/create",
        content=chunks(),
        headers={**tenant_a.headers, "content-type": "application/json"},
    )
    assert response.status_code == 413


def test_not_json_at_all_is_a_422_not_a_500(client: TestClient, tenant_a: Tenant) -> None:
    for raw in (b"\xff\xfe", b"{", b'{"name": "x"} trailing'):
        status, _ = post_raw(client, "/v1/convai/agents/create", raw, tenant_a)
        assert status == 422


def test_a_rejected_value_too_long_to_echo_is_cut_in_the_error(
    client: TestClient, tenant_a: Tenant
) -> None:
    status, body = post_raw(
        client, "/v1/do-not-call", json.dumps({"phone_number": "9" * 100_000}), tenant_a
    )
    assert status == 422
    assert len(json.dumps(body)) < 2000


@pytest.mark.parametrize(
    ("method", "path", "raw", "where"),
    [
        ("POST", "/v1/campaigns", '{"name": "a\\u0000b"}', ["body", "name"]),
        ("POST", "/v1/convai/agents/create", '{"tags": ["\\u0000"]}', ["body", "tags", 0]),
        ("GET", "/v1/convai/agents/agent_%00", None, ["path"]),
        ("GET", "/v1/convai/agents?search=a%00b", None, ["query"]),
    ],
)
def test_a_nul_character_anywhere_is_a_422_not_a_database_error(
    client: TestClient,
    tenant_a: Tenant,
    method: str,
    path: str,
    raw: str | None,
    where: list[object],
) -> None:
    response = client.request(
        method,
        path,
        content=raw,
        headers={**tenant_a.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == where
