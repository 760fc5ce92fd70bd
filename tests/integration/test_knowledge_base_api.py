"""Knowledge-base documents: created from text, a URL and each file type, listed, read,
indexed, refused when unreadable or unsafe, and deleted only when no agent uses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.db.session import Database
from app.knowledge.indexing import index_due_documents
from app.knowledge.minilm import shared_model
from app.observability.metrics import KNOWLEDGE_REFUSALS, UNSAFE_URL_REFUSALS
from app.settings import Settings
from tests.api_app import TEST_PUBLIC_URL, TEST_SECRET
from tests.knowledge_files import docx_with_text, html_page, pdf_with_text
from tests.local_http import QuietHandler, serving
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

BASE = "/v1/convai/knowledge-base"


def _allow_private(client: TestClient, allow: bool = True) -> None:
    client.app.state.settings = Settings(  # type: ignore[attr-defined]
        secret_key=TEST_SECRET.hex(),
        public_url=TEST_PUBLIC_URL,
        allow_private_urls=allow,
        knowledge_max_file_bytes=64 * 1024,
        knowledge_max_url_bytes=64 * 1024,
        knowledge_url_timeout_s=1.0,
    )


class _Site(QuietHandler):
    def do_GET(self) -> None:
        if self.path == "/returns":
            body = html_page(
                "Returns policy",
                [
                    "You can return any unworn item within 30 days of delivery for a full refund.",
                    "Refunds are paid to the original card within five business days.",
                ],
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/returns")
            self.end_headers()
        elif self.path == "/elsewhere":
            self.send_response(302)
            self.send_header("Location", "http://localhost.localdomain.invalid/returns")
            self.end_headers()
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"x" * (200 * 1024))
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture
def site() -> Iterator[str]:
    with serving(_Site) as base:
        yield base


def _create_text(client: TestClient, tenant: Tenant, text: str, name: str = "Hours") -> str:
    response = client.post(
        f"{BASE}/text", json={"text": text, "name": name}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_a_text_document_is_stored_listed_and_read_back_with_its_text(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    document_id = _create_text(client, tenant_a, "We open at 9am and close at 6pm.")

    got = client.get(f"{BASE}/{document_id}", headers=tenant_a.headers).json()
    listed = client.get(BASE, headers=tenant_a.headers).json()
    other = client.get(f"{BASE}/{document_id}", headers=tenant_b.headers)

    assert got["type"] == "text"
    assert got["extracted_inner_html"] == "We open at 9am and close at 6pm."
    assert got["metadata"]["size_bytes"] == len(b"We open at 9am and close at 6pm.")
    assert [document["id"] for document in listed["documents"]] == [document_id]
    assert listed["has_more"] is False
    assert other.status_code == 404


def test_list_filters_by_name_prefix_and_type_and_pages(
    client: TestClient, tenant_a: Tenant
) -> None:
    first = _create_text(client, tenant_a, "one", name="Alpha")
    second = _create_text(client, tenant_a, "two", name="Beta")
    third = _create_text(client, tenant_a, "three", name="Alps")

    searched = client.get(BASE, params={"search": "Alp"}, headers=tenant_a.headers).json()
    by_type = client.get(BASE, params={"types": ["url"]}, headers=tenant_a.headers).json()
    page = client.get(BASE, params={"page_size": 2}, headers=tenant_a.headers).json()
    rest = client.get(
        BASE, params={"page_size": 2, "cursor": page["next_cursor"]}, headers=tenant_a.headers
    ).json()

    assert {document["id"] for document in searched["documents"]} == {first, third}
    assert by_type["documents"] == []
    assert [document["id"] for document in page["documents"]] == [third, second]
    assert [document["id"] for document in rest["documents"]] == [first]


def test_a_url_document_holds_the_pages_main_text_after_a_same_host_redirect(
    client: TestClient, tenant_a: Tenant, site: str
) -> None:
    _allow_private(client)

    response = client.post(f"{BASE}/url", json={"url": f"{site}/moved"}, headers=tenant_a.headers)

    assert response.status_code == 200, response.text
    got = client.get(f"{BASE}/{response.json()['id']}", headers=tenant_a.headers).json()
    assert got["type"] == "url"
    assert got["url"] == f"{site}/moved"
    assert "within 30 days of delivery" in got["extracted_inner_html"]
    assert "Copyright" not in got["extracted_inner_html"]
    assert "tracking" not in got["extracted_inner_html"]


def test_a_loopback_url_is_refused_unless_private_urls_are_allowed(
    client: TestClient, tenant_a: Tenant, site: str
) -> None:
    _allow_private(client, allow=False)
    before = UNSAFE_URL_REFUSALS.labels("knowledge_base")._value.get()

    response = client.post(f"{BASE}/url", json={"url": f"{site}/returns"}, headers=tenant_a.headers)

    assert response.status_code == 422
    assert "loopback" in response.json()["detail"]["message"]
    assert UNSAFE_URL_REFUSALS.labels("knowledge_base")._value.get() == before + 1


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/elsewhere", 422, "redirect_elsewhere"),
        ("/huge", 413, "too_large"),
        ("/missing", 422, "url_status"),
    ],
)
def test_a_url_that_redirects_elsewhere_is_too_large_or_missing_is_refused_and_counted(
    client: TestClient, tenant_a: Tenant, site: str, path: str, status: int, reason: str
) -> None:
    _allow_private(client)
    before = KNOWLEDGE_REFUSALS.labels(reason)._value.get()

    response = client.post(f"{BASE}/url", json={"url": f"{site}{path}"}, headers=tenant_a.headers)

    assert response.status_code == status, response.text
    assert KNOWLEDGE_REFUSALS.labels(reason)._value.get() == before + 1
    assert client.get(BASE, headers=tenant_a.headers).json()["documents"] == []


FILES = [
    ("returns.pdf", "application/pdf", pdf_with_text(["Returns are accepted within 30 days."])),
    (
        "hours.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        docx_with_text(["Returns are accepted within 30 days.", "Closed on Sundays."]),
    ),
    ("page.html", "text/html", html_page("Returns", ["Returns are accepted within 30 days."])),
    ("notes.md", "text/markdown", b"# Returns\n\nReturns are accepted within 30 days.\n"),
    ("notes.txt", "text/plain", b"Returns are accepted within 30 days.\n"),
    ("policy.csv", "text/csv", b"topic,rule\nReturns,Returns are accepted within 30 days.\n"),
]


@pytest.mark.parametrize(("filename", "content_type", "data"), FILES, ids=[f[0] for f in FILES])
def test_each_file_type_becomes_a_document_with_its_text(
    client: TestClient, tenant_a: Tenant, filename: str, content_type: str, data: bytes
) -> None:
    response = client.post(
        f"{BASE}/file", files={"file": (filename, data, content_type)}, headers=tenant_a.headers
    )

    assert response.status_code == 200, response.text
    got = client.get(f"{BASE}/{response.json()['id']}", headers=tenant_a.headers).json()
    assert got["type"] == "file"
    assert got["filename"] == filename
    assert "Returns are accepted within 30 days." in got["extracted_inner_html"]


BAD_FILES = [
    ("broken.pdf", b"%PDF-1.4\nthis is not a pdf at all", 422, "unreadable_pdf"),
    ("broken.docx", b"PK\x03\x04 not a zip", 422, "unreadable_docx"),
    ("tool.exe", b"MZ\x90\x00", 422, "unsupported_type"),
    ("empty.txt", b"   \n", 422, "empty"),
    ("big.txt", b"a" * (65 * 1024), 413, "too_large"),
]


@pytest.mark.parametrize(
    ("filename", "data", "status", "reason"), BAD_FILES, ids=[f[0] for f in BAD_FILES]
)
def test_an_unreadable_or_oversized_file_is_refused_clearly_and_counted(
    client: TestClient, tenant_a: Tenant, filename: str, data: bytes, status: int, reason: str
) -> None:
    _allow_private(client)
    before = KNOWLEDGE_REFUSALS.labels(reason)._value.get()

    response = client.post(
        f"{BASE}/file",
        files={"file": (filename, data, "application/octet-stream")},
        headers=tenant_a.headers,
    )

    assert response.status_code == status, response.text
    assert response.json()["detail"]["status"] == "unreadable_document"
    assert KNOWLEDGE_REFUSALS.labels(reason)._value.get() == before + 1


def _agent_with(client: TestClient, tenant: Tenant, document_id: str) -> str:
    response = client.post(
        "/v1/convai/agents/create",
        json={
            "name": "Support",
            "conversation_config": {
                "agent": {
                    "prompt": {
                        "knowledge_base": [
                            {
                                "type": "text",
                                "name": "Hours",
                                "id": document_id,
                                "usage_mode": "auto",
                            }
                        ],
                        "rag": {"enabled": True},
                    }
                }
            },
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["agent_id"])


def test_delete_is_refused_while_an_agent_uses_the_document_unless_forced(
    client: TestClient, tenant_a: Tenant
) -> None:
    document_id = _create_text(client, tenant_a, "We open at 9am.")
    agent_id = _agent_with(client, tenant_a, document_id)

    listed = client.get(BASE, headers=tenant_a.headers).json()["documents"][0]
    refused = client.delete(f"{BASE}/{document_id}", headers=tenant_a.headers)
    forced = client.delete(
        f"{BASE}/{document_id}", params={"force": True}, headers=tenant_a.headers
    )

    assert [agent["id"] for agent in listed["dependent_agents"]] == [agent_id]
    assert refused.status_code == 409
    assert forced.status_code == 200
    assert client.get(f"{BASE}/{document_id}", headers=tenant_a.headers).status_code == 404
    agent = client.get(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers).json()
    assert agent["conversation_config"]["agent"]["prompt"]["knowledge_base"] == []


@pytest.mark.models
def test_indexing_reports_progress_through_rag_index_and_stores_overlapping_chunks(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    text = "\n\n".join(
        f"Paragraph {n}: the store in town number {n} opens at {n % 12 + 1} o'clock." * 4
        for n in range(30)
    )
    document_id = _create_text(client, tenant_a, text, name="Stores")
    before = client.post(
        f"{BASE}/{document_id}/rag-index",
        json={"model": "e5_mistral_7b_instruct"},
        headers=tenant_a.headers,
    ).json()

    indexed = index_due_documents(database, shared_model())

    after = client.get(f"{BASE}/{document_id}/rag-index", headers=tenant_a.headers).json()
    assert before["status"] == "created"
    assert before["progress_percentage"] == 0
    assert indexed == 1
    assert after["indexes"][0]["status"] == "succeeded"
    assert after["indexes"][0]["progress_percentage"] == 100
    from app.db import knowledge as knowledge_rows

    with database.session() as session:
        chunks = knowledge_rows.chunks_of(session, tenant_a.organization_id, [document_id])
    assert len(chunks) > 3
    assert all(len(chunk.vector) == 384 * 4 for chunk in chunks)
    # neighbours overlap: the start of each chunk repeats the end of the one before
    assert all(chunks[i + 1].text[:20] in chunks[i].text for i in range(len(chunks) - 1))


def test_an_upload_past_the_cap_is_refused_before_it_is_read_whole(
    client: TestClient, tenant_a: Tenant
) -> None:
    _allow_private(client)  # files capped at 64 KiB here
    before = KNOWLEDGE_REFUSALS.labels("too_large")._value.get()

    response = client.post(
        f"{BASE}/file",
        files={"file": ("huge.txt", b"a" * (1024 * 1024), "text/plain")},
        headers=tenant_a.headers,
    )

    assert response.status_code == 413
    assert KNOWLEDGE_REFUSALS.labels("too_large")._value.get() == before + 1


def test_an_upload_without_its_file_field_is_refused(client: TestClient, tenant_a: Tenant) -> None:
    response = client.post(
        f"{BASE}/file",
        files={"document": ("notes.txt", b"hello", "text/plain")},
        headers=tenant_a.headers,
    )

    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "invalid_upload"


def test_a_malformed_multipart_body_is_refused_as_an_invalid_upload(
    client: TestClient, tenant_a: Tenant
) -> None:
    boundary = "0d37f771f3609e9baf6be26654101f5f"

    response = client.post(
        f"{BASE}/file",
        content=f"--{boundary}\r\nTrue--{boundary}--\r\n".encode(),
        headers={**tenant_a.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "invalid_upload"


@pytest.mark.models
def test_new_text_renames_and_queues_the_document_for_indexing_again(
    client: TestClient, tenant_a: Tenant, database: Database
) -> None:
    document_id = _create_text(client, tenant_a, "We open at nine.")
    index_due_documents(database, shared_model())

    response = client.patch(
        f"{BASE}/{document_id}",
        json={"name": "Opening hours", "content": "We open at ten on Saturdays."},
        headers=tenant_a.headers,
    )
    status_after = client.get(f"{BASE}/{document_id}/rag-index", headers=tenant_a.headers)
    index_due_documents(database, shared_model())

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Opening hours"
    assert response.json()["extracted_inner_html"] == "We open at ten on Saturdays."
    assert status_after.json()["indexes"][0]["status"] == "created"
    from app.db import knowledge as knowledge_rows

    with database.session() as session:
        chunks = knowledge_rows.chunks_of(session, tenant_a.organization_id, [document_id])
    assert [chunk.text for chunk in chunks] == ["We open at ten on Saturdays."]
