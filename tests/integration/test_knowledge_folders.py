"""Knowledge-base folders in ElevenLabs' shapes: created (nested), documents created in them,
listed within one, moved (one, in bulk, to the root), a folder kept out of itself, `folder_path`
on get, an empty folder deleted and a full one refused unless forced; other tenants' folders
are not found; the official SDK does the same; an agent that names a folder knows what is in it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from elevenlabs import ElevenLabs
from fastapi.testclient import TestClient

from app.config.knowledge import KnowledgeBaseLocator, RagSettings
from app.db.session import Database
from app.knowledge.indexing import index_due_documents
from app.knowledge.minilm import shared_model
from app.knowledge.retrieval import AgentKnowledge, ChunkCache
from tests.api_app import build_api_app
from tests.live_server import free_port, serve
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

BASE = "/v1/convai/knowledge-base"


def folder(client: TestClient, tenant: Tenant, name: str, parent: str | None = None) -> str:
    response = client.post(
        f"{BASE}/folder", json={"name": name, "parent_folder_id": parent}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def text(client: TestClient, tenant: Tenant, name: str, parent: str | None = None) -> str:
    body = {"text": f"{name} is open nine to five.", "name": name, "parent_folder_id": parent}
    response = client.post(f"{BASE}/text", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def names(client: TestClient, tenant: Tenant, **query: str) -> set[str]:
    response = client.get(BASE, params=query, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {d["name"] for d in response.json()["documents"]}


def get(client: TestClient, tenant: Tenant, document_id: str) -> dict[str, Any]:
    response = client.get(f"{BASE}/{document_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_documents_live_in_nested_folders_and_are_listed_within_them(
    client: TestClient, tenant_a: Tenant
) -> None:
    policies = folder(client, tenant_a, "Policies")
    returns = folder(client, tenant_a, "Returns", policies)
    text(client, tenant_a, "Hours")
    added = client.post(
        f"{BASE}/text",
        json={"text": "Thirty days.", "name": "Refunds", "parent_folder_id": returns},
        headers=tenant_a.headers,
    ).json()
    assert added["folder_path"] == [
        {"id": policies, "name": "Policies"},
        {"id": returns, "name": "Returns"},
    ]
    assert names(client, tenant_a, parent_folder_id=policies) == {"Returns"}
    assert names(client, tenant_a, parent_folder_id=returns) == {"Refunds"}
    assert names(client, tenant_a, ancestor_folder_id=policies) == {"Returns", "Refunds"}
    assert names(client, tenant_a, types="folder") == {"Policies", "Returns"}
    shown = get(client, tenant_a, policies)
    assert shown["type"] == "folder"
    assert (shown["children_count"], shown["document_count"]) == (1, 1)
    refunds = get(client, tenant_a, added["id"])
    assert refunds["folder_parent_id"] == returns
    assert [s["name"] for s in refunds["folder_path"]] == ["Policies", "Returns"]


def test_documents_move_between_folders_and_a_folder_never_into_itself(
    client: TestClient, tenant_a: Tenant
) -> None:
    outer = folder(client, tenant_a, "Outer")
    inner = folder(client, tenant_a, "Inner", outer)
    hours, prices = text(client, tenant_a, "Hours"), text(client, tenant_a, "Prices")
    moved = client.post(f"{BASE}/{hours}/move", json={"move_to": inner}, headers=tenant_a.headers)
    assert moved.status_code == 200, moved.text
    bulk = client.post(
        f"{BASE}/bulk-move",
        json={"document_ids": [prices], "move_to": outer},
        headers=tenant_a.headers,
    )
    assert bulk.status_code == 200, bulk.text
    assert names(client, tenant_a, parent_folder_id=inner) == {"Hours"}
    assert names(client, tenant_a, parent_folder_id=outer) == {"Inner", "Prices"}
    loop = client.post(f"{BASE}/{outer}/move", json={"move_to": inner}, headers=tenant_a.headers)
    assert loop.status_code == 422
    assert "into_itself" in loop.text
    home = client.post(f"{BASE}/{hours}/move", json={"move_to": None}, headers=tenant_a.headers)
    assert home.status_code == 200
    assert get(client, tenant_a, hours)["folder_path"] == []


def test_a_full_folder_is_deleted_only_when_forced_and_takes_what_it_holds(
    client: TestClient, tenant_a: Tenant
) -> None:
    empty = folder(client, tenant_a, "Empty")
    assert client.delete(f"{BASE}/{empty}", headers=tenant_a.headers).status_code == 200
    full = folder(client, tenant_a, "Full")
    inside = folder(client, tenant_a, "Inside", full)
    document = text(client, tenant_a, "Hours", inside)
    refused = client.delete(f"{BASE}/{full}", headers=tenant_a.headers)
    assert refused.status_code == 409
    assert "folder_not_empty" in refused.text
    assert get(client, tenant_a, document)["name"] == "Hours"
    forced = client.delete(f"{BASE}/{full}", params={"force": "true"}, headers=tenant_a.headers)
    assert forced.status_code == 200
    for gone in (full, inside, document):
        assert client.get(f"{BASE}/{gone}", headers=tenant_a.headers).status_code == 404


def test_another_tenants_folder_is_not_found(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    theirs = folder(client, tenant_b, "Theirs")
    mine = text(client, tenant_a, "Hours")
    body = {"text": "x", "name": "Sneaky", "parent_folder_id": theirs}
    assert client.post(f"{BASE}/text", json=body, headers=tenant_a.headers).status_code == 422
    into = client.post(f"{BASE}/{mine}/move", json={"move_to": theirs}, headers=tenant_a.headers)
    assert into.status_code == 422
    taken = client.post(f"{BASE}/{theirs}/move", json={"move_to": None}, headers=tenant_a.headers)
    assert taken.status_code == 404
    assert client.get(f"{BASE}/{theirs}", headers=tenant_a.headers).status_code == 404
    assert (
        client.get(BASE, params={"parent_folder_id": theirs}, headers=tenant_a.headers).status_code
        == 422
    )


def test_a_folders_content_and_index_are_not_documents(
    client: TestClient, tenant_a: Tenant
) -> None:
    policies = folder(client, tenant_a, "Policies")
    assert client.get(f"{BASE}/{policies}/content", headers=tenant_a.headers).status_code == 404
    renamed = client.patch(f"{BASE}/{policies}", json={"name": "Rules"}, headers=tenant_a.headers)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Rules"


def test_the_sdk_creates_a_folder_moves_into_it_and_reads_the_path(
    database: Database, tenant_a: Tenant
) -> None:
    with serve(build_api_app(database), free_port()) as url:
        _sdk_round(ElevenLabs(api_key=tenant_a.api_key, base_url=url))


def _sdk_round(sdk: ElevenLabs) -> None:
    kb = sdk.conversational_ai.knowledge_base
    created = kb.documents.create_folder(name="Policies")
    document = kb.documents.create_from_text(text="Open nine to five.", name="Hours")
    kb.documents.move(document.id, move_to=created.id)
    got = kb.documents.get(document.id)
    assert got.folder_parent_id == created.id
    assert [segment.id for segment in got.folder_path or []] == [created.id]
    listed = kb.list(parent_folder_id=created.id)
    assert [d.id for d in listed.documents] == [document.id]
    shown = kb.documents.get(created.id)
    assert shown.type == "folder"
    assert shown.children_count == 1


async def test_an_agent_that_names_a_folder_knows_the_documents_inside_it(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    manuals = folder(client, tenant_a, "Manuals")
    bikes = folder(client, tenant_a, "Bikes", manuals)
    policies = folder(client, tenant_a, "Policies")
    for name, words, parent in (
        ("Velo 3", "The Velo 3 goes 120 km on one charge of its 500 Wh battery.", bikes),
        ("Velo 2", "The Velo 2 weighs 19 kg and folds in ten seconds.", manuals),
        ("Returns", "Unworn items come back within 30 days for a full refund.", policies),
    ):
        body = {"text": words, "name": name, "parent_folder_id": parent}
        assert client.post(f"{BASE}/text", json=body, headers=tenant_a.headers).status_code == 200
    assert await asyncio.to_thread(index_due_documents, database, shared_model()) == 3
    knowledge = AgentKnowledge(
        database,
        tenant_a.organization_id,
        "agent_bikes",
        [
            KnowledgeBaseLocator(type="folder", name="Manuals", id=manuals, usage_mode="auto"),
            KnowledgeBaseLocator(type="folder", name="Policies", id=policies, usage_mode="prompt"),
        ],
        RagSettings(enabled=True, max_retrieved_rag_chunks_count=5, max_vector_distance=1.0),
        cache=ChunkCache(),
    )
    prompt = await knowledge.prompt_section()
    found = await knowledge.retrieve("How far does the Velo 3 go on a charge?")
    assert "Unworn items come back within 30 days" in prompt
    assert "Velo" not in prompt
    assert found[0].text.startswith("The Velo 3 goes 120 km")
    assert {chunk.text.split()[2] for chunk in found} == {"3", "2"}  # both, from nested folders
