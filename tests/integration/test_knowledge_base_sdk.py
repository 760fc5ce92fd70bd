"""The official ``elevenlabs`` SDK, unmodified, creates knowledge-base documents, follows
their index and attaches them to an agent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError

from app.db.session import Database
from tests.api_app import build_api_app
from tests.knowledge_files import pdf_with_text
from tests.live_server import free_port, serve
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def sdk(database: Database, tenant_a: Tenant) -> Iterator[ElevenLabs]:
    with serve(build_api_app(database), free_port()) as url:
        yield ElevenLabs(api_key=tenant_a.api_key, base_url=url)


def test_sdk_creates_documents_and_attaches_them_to_an_agent(sdk: ElevenLabs) -> None:
    documents = sdk.conversational_ai.knowledge_base.documents
    text = documents.create_from_text(text="We open at nine on weekdays.", name="Hours")
    pdf = documents.create_from_file(
        file=("returns.pdf", pdf_with_text(["Returns within 30 days."]), "application/pdf"),
        name="Returns",
    )
    index = sdk.conversational_ai.knowledge_base.document.compute_rag_index(
        text.id, model="e5_mistral_7b_instruct"
    )
    agent = sdk.conversational_ai.agents.create(
        name="Front desk",
        conversation_config={
            "agent": {
                "prompt": {
                    "prompt": "Answer from the knowledge base.",
                    "knowledge_base": [
                        {"type": "text", "name": "Hours", "id": text.id, "usage_mode": "auto"},
                        {"type": "file", "name": "Returns", "id": pdf.id, "usage_mode": "prompt"},
                    ],
                    "rag": {"enabled": True, "max_retrieved_rag_chunks_count": 5},
                }
            }
        },
    )

    documents.update(pdf.id, name="Returns policy")
    fetched = documents.get(text.id)
    listed = sdk.conversational_ai.knowledge_base.list(page_size=10)
    stored = sdk.conversational_ai.agents.get(agent.agent_id)
    assert fetched.type == "text"
    assert fetched.extracted_inner_html == "We open at nine on weekdays."
    assert documents.get_content(pdf.id) == "Returns within 30 days."
    assert {document.id for document in listed.documents} == {text.id, pdf.id}
    assert documents.get(pdf.id).name == "Returns policy"
    assert index.status == "created"
    assert stored.conversation_config.agent is not None
    prompt = stored.conversation_config.agent.prompt
    assert prompt is not None
    assert [(kb.id, kb.usage_mode) for kb in prompt.knowledge_base or []] == [
        (text.id, "auto"),
        (pdf.id, "prompt"),
    ]
    assert prompt.rag is not None
    assert prompt.rag.enabled is True
    with pytest.raises(ApiError) as refused:
        documents.delete(text.id)
    assert refused.value.status_code == 409
    documents.delete(text.id, force=True)
    with pytest.raises(ApiError) as gone:
        documents.get(text.id)
    assert gone.value.status_code == 404
