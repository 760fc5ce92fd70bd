"""Agents are validated, deep-merged on PATCH and paged newest first."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def test_invalid_agent_body_is_rejected_naming_the_field(
    client: TestClient, tenant_a: Tenant
) -> None:
    response = client.post(
        "/v1/convai/agents/create",
        json={"conversation_config": {"turn": {"turn_timeout": "soon"}}},
        headers=tenant_a.headers,
    )

    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert ["body", "conversation_config", "turn", "turn_timeout"] in locations


def test_invalid_patch_is_rejected_naming_the_field_and_changes_nothing(
    client: TestClient, tenant_a: Tenant
) -> None:
    created = client.post(
        "/v1/convai/agents/create", json={"conversation_config": {}}, headers=tenant_a.headers
    )
    agent_id = created.json()["agent_id"]

    response = client.patch(
        f"/v1/convai/agents/{agent_id}",
        json={"name": "Renamed", "velox": {"barge_in_min_speech_ms": 1}},
        headers=tenant_a.headers,
    )

    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert ["body", "velox", "barge_in_min_speech_ms"] in locations
    stored = client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers).json()
    assert stored["name"] == "Agent"


def test_patch_deep_merges_nested_settings(client: TestClient, tenant_a: Tenant) -> None:
    created = client.post(
        "/v1/convai/agents/create",
        json={
            "name": "Sales",
            "conversation_config": {
                "agent": {"first_message": "Hello from Acme", "prompt": {"prompt": "Sell."}}
            },
        },
        headers=tenant_a.headers,
    )
    agent_id = created.json()["agent_id"]

    response = client.patch(
        f"/v1/convai/agents/{agent_id}",
        json={"conversation_config": {"agent": {"prompt": {"temperature": 0.2}}}, "tags": ["q3"]},
        headers=tenant_a.headers,
    )

    assert response.status_code == 200
    agent = response.json()["conversation_config"]["agent"]
    assert agent["first_message"] == "Hello from Acme"
    assert (agent["prompt"]["prompt"], agent["prompt"]["temperature"]) == ("Sell.", 0.2)
    assert response.json()["tags"] == ["q3"]


def test_a_null_in_a_patch_removes_the_key_so_a_field_or_variable_can_be_taken_out(
    client: TestClient, tenant_a: Tenant
) -> None:
    created = client.post(
        "/v1/convai/agents/create",
        json={
            "conversation_config": {},
            "platform_settings": {
                "data_collection": {
                    "budget": {"type": "number", "description": "the budget"},
                    "city": {"type": "string", "description": "where they live"},
                }
            },
            "velox": {"dynamic_variables": {"company": "Acme", "region": "EU"}},
        },
        headers=tenant_a.headers,
    )
    agent_id = created.json()["agent_id"]

    response = client.patch(
        f"/v1/convai/agents/{agent_id}",
        json={
            "platform_settings": {"data_collection": {"budget": None}},
            "velox": {"dynamic_variables": {"region": None}, "end_of_turn_silence_ms": None},
        },
        headers=tenant_a.headers,
    )

    assert response.status_code == 200, response.text
    agent = client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers).json()
    assert list(agent["platform_settings"]["data_collection"]) == ["city"]
    assert agent["velox"]["dynamic_variables"] == {"company": "Acme"}
    assert agent["velox"]["end_of_turn_silence_ms"] == 800  # removed: the default again


def test_template_preview_renders_with_the_sample_call_and_the_given_variables(
    client: TestClient, tenant_a: Tenant
) -> None:
    response = client.post(
        "/v1/agent-templates/preview",
        json={
            "prompt": "You sell for {{ company }} to {{ system__caller_id }}.",
            "first_message": "Hello!",
            "dynamic_variables": {"company": "Acme"},
        },
        headers=tenant_a.headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["prompt"] == {"text": "You sell for Acme to +15550100000.", "error": None}
    assert body["first_message"] == {"text": "Hello!", "error": None}
    assert body["system_variables"]["system__caller_id"] == "+15550100000"


def test_template_preview_gives_the_error_saving_would_be_refused_with(
    client: TestClient, tenant_a: Tenant
) -> None:
    broken = "Hi {% if name %}{{ name }}"
    preview = client.post(
        "/v1/agent-templates/preview",
        json={"prompt": broken, "first_message": "{{ 1 / 0 }}"},
        headers=tenant_a.headers,
    ).json()
    saved = client.post(
        "/v1/convai/agents/create",
        json={"conversation_config": {"agent": {"prompt": {"prompt": broken}}}},
        headers=tenant_a.headers,
    )

    assert saved.status_code == 422
    refusal = saved.json()["detail"][0]["msg"]
    assert preview["prompt"]["error"] in refusal
    assert preview["prompt"]["error"].startswith("template error on line 1")
    assert preview["first_message"]["error"]
    assert preview["first_message"]["text"] == ""


def test_agent_list_pages_newest_first_with_a_cursor(client: TestClient, tenant_a: Tenant) -> None:
    created = [
        client.post(
            "/v1/convai/agents/create",
            json={"name": f"Agent {index}", "conversation_config": {}},
            headers=tenant_a.headers,
        ).json()["agent_id"]
        for index in range(5)
    ]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"page_size": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = client.get("/v1/convai/agents", params=params, headers=tenant_a.headers).json()
        seen += [agent["agent_id"] for agent in page["agents"]]
        pages += 1
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]

    assert seen == list(reversed(created))
    assert pages == 3


def test_agent_search_matches_part_of_the_name(client: TestClient, tenant_a: Tenant) -> None:
    for name in ("Billing desk", "Sales line", "billing overflow"):
        client.post(
            "/v1/convai/agents/create",
            json={"name": name, "conversation_config": {}},
            headers=tenant_a.headers,
        )

    page = client.get(
        "/v1/convai/agents", params={"search": "BILLING"}, headers=tenant_a.headers
    ).json()

    assert sorted(agent["name"] for agent in page["agents"]) == [
        "Billing desk",
        "billing overflow",
    ]


def test_deleted_agent_is_gone_from_get_and_list(client: TestClient, tenant_a: Tenant) -> None:
    agent_id = client.post(
        "/v1/convai/agents/create", json={"conversation_config": {}}, headers=tenant_a.headers
    ).json()["agent_id"]

    deleted = client.delete(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers)

    assert deleted.status_code == 200
    assert client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers).status_code == 404
    assert client.get("/v1/convai/agents", headers=tenant_a.headers).json()["agents"] == []


def test_a_prompt_template_that_does_not_parse_is_refused_naming_the_field(
    client: TestClient, tenant_a: Tenant
) -> None:
    body = {"conversation_config": {"agent": {"prompt": {"prompt": "Hi {{ name "}}}}
    response = client.post("/v1/convai/agents/create", json=body, headers=tenant_a.headers)
    assert response.status_code == 422
    assert "prompt" in json.dumps(response.json())
    assert "template error" in json.dumps(response.json())


@pytest.mark.parametrize(
    ("field", "source"),
    [
        ("first_message", "{% for i in range(100000) %}{% for j in range(10000) %}{% endfor %}"),
        ("first_message", "{{ 1/0 }}"),
        ("prompt", "{{ 'x' * 20000000 }}"),
        ("prompt", "{{ 10**5000 }}"),
        ("prompt", "{% for i in range(100000) %}{{ i }}{% endfor %}"),  # renders past the cap
    ],
)
def test_a_template_that_fails_or_overruns_is_refused_at_save_time_naming_the_field(
    client: TestClient, tenant_a: Tenant, field: str, source: str
) -> None:
    agent = {"prompt": {"prompt": source}} if field == "prompt" else {"first_message": source}
    body = {"conversation_config": {"agent": agent}}
    response = client.post("/v1/convai/agents/create", json=body, headers=tenant_a.headers)
    assert response.status_code == 422, response.text
    locations = [error["loc"] for error in response.json()["detail"]]
    path = ["prompt", "prompt"] if field == "prompt" else ["first_message"]
    assert ["body", "conversation_config", "agent", *path] in locations
    assert client.get("/v1/convai/agents", headers=tenant_a.headers).json()["agents"] == []


def test_a_patch_whose_template_fails_is_refused_and_changes_nothing(
    client: TestClient, tenant_a: Tenant
) -> None:
    created = client.post(
        "/v1/convai/agents/create", json={"conversation_config": {}}, headers=tenant_a.headers
    )
    agent_id = created.json()["agent_id"]
    body = {"conversation_config": {"agent": {"first_message": "Hi {{ 1/0 }}"}}}
    response = client.patch(f"/v1/convai/agents/{agent_id}", json=body, headers=tenant_a.headers)
    assert response.status_code == 422
    stored = client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers).json()
    assert "1/0" not in stored["conversation_config"]["agent"]["first_message"]


def test_a_prompt_longer_than_the_cap_is_refused(client: TestClient, tenant_a: Tenant) -> None:
    body = {"conversation_config": {"agent": {"prompt": {"prompt": "x" * 50_001}}}}
    response = client.post("/v1/convai/agents/create", json=body, headers=tenant_a.headers)
    assert response.status_code == 422
