"""A phone call whose agent answers from its knowledge base: the caller's question, heard by
the recognizer, finds the passage that answers it, and the passage reaches the LLM's request;
the retrieval is in the conversation's events with the chunk's id and distance."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from app.config.agent import AgentConfig, FallbackChoice, ProviderChoice
from app.db import knowledge as knowledge_rows
from app.knowledge.indexing import index_due_documents
from app.knowledge.minilm import shared_model
from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.e2e.voice_service import ask_after_the_greeting, running_service
from tests.fakes.cloud.deepgram import DeepgramLiveDouble, DeepgramScript
from tests.fakes.cloud.elevenlabs import VALID_KEY as ELEVENLABS_KEY
from tests.fakes.cloud.elevenlabs import ElevenLabsDouble
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript
from tests.knowledge_set import PASSAGES
from tests.models.spoken import speak

pytestmark = [pytest.mark.e2e, pytest.mark.models]

DEEPGRAM_KEY = "test-deepgram-key"
GROQ_KEY = "test-groq-key-0123"
QUESTION = "how far can the Velo 3 go on one charge"
ANSWER_PASSAGE = PASSAGES[6]
POLICY = "Always greet the caller by saying the word BLUEBERRY."


async def test_the_passage_answering_the_callers_question_reaches_the_llm(
    tmp_path: Path,
) -> None:
    with (
        DeepgramLiveDouble(DEEPGRAM_KEY, DeepgramScript(utterances=[QUESTION])) as deepgram,
        GroqChatDouble(GROQ_KEY, GroqScript(text=["Up to ninety kilometres."])) as groq,
    ):
        async with ElevenLabsDouble() as elevenlabs:
            endpoints = Settings(
                deepgram_base_url=deepgram.base_url,
                groq_base_url=groq.base_url,
                elevenlabs_base_url=elevenlabs.base_url,
            )
            registry = ProviderRegistry()
            register_builtin_providers(registry, endpoints)
            config = AgentConfig(name="Bike shop")
            config.conversation_config.agent.first_message = "Hello, bike shop."
            config.conversation_config.tts.voice_id = "voice-1"
            config.velox.providers = ProviderChoice(
                vad="energy", stt="deepgram", llm="groq", tts="elevenlabs"
            )
            config.velox.fallbacks = FallbackChoice(stt=[], llm=[], tts=[])
            with running_service(tmp_path, config=config, registry=registry) as service:
                for provider, key in (
                    ("deepgram", DEEPGRAM_KEY),
                    ("groq", GROQ_KEY),
                    ("elevenlabs", ELEVENLABS_KEY),
                ):
                    service.set_provider_key(provider, key)
                async with httpx.AsyncClient(
                    base_url=service.base_url, headers=service.headers
                ) as api:
                    catalogue = await api.post(
                        "/v1/convai/knowledge-base/text",
                        json={"text": "\n\n".join(PASSAGES), "name": "Shop facts"},
                    )
                    policy = await api.post(
                        "/v1/convai/knowledge-base/text", json={"text": POLICY, "name": "Policy"}
                    )
                    assert catalogue.status_code == policy.status_code == 200
                    catalogue_id, policy_id = catalogue.json()["id"], policy.json()["id"]
                    assert (
                        await asyncio.to_thread(
                            index_due_documents, service.database, shared_model()
                        )
                        == 2
                    )
                    attached = await api.patch(
                        f"/v1/convai/agents/{service.agent_id}",
                        json={
                            "conversation_config": {
                                "agent": {
                                    "prompt": {
                                        "knowledge_base": [
                                            {
                                                "type": "text",
                                                "name": "Shop facts",
                                                "id": catalogue_id,
                                                "usage_mode": "auto",
                                            },
                                            {
                                                "type": "text",
                                                "name": "Policy",
                                                "id": policy_id,
                                                "usage_mode": "prompt",
                                            },
                                        ],
                                        "rag": {
                                            "enabled": True,
                                            "max_retrieved_rag_chunks_count": 2,
                                            "max_vector_distance": 0.8,
                                        },
                                    }
                                }
                            }
                        },
                    )
                    assert attached.status_code == 200, attached.text
                body = await ask_after_the_greeting(
                    service,
                    speak("How far can the Velo three go on one charge?"),
                    listen_s=4.0,
                    answer_timeout=10,
                )
                with service.database.session() as session:
                    chunks = knowledge_rows.chunks_of(
                        session, service.organization_id, [catalogue_id]
                    )

    [request] = [r for r in groq.requests if any(m["role"] == "user" for m in r.body["messages"])]
    messages = request.body["messages"]
    assert POLICY in messages[0]["content"]  # usage_mode "prompt": whole in the system prompt
    user_at = max(i for i, m in enumerate(messages) if m["role"] == "user")
    passages = messages[user_at - 1]
    assert passages["role"] == "system"
    assert "500 Wh battery" in passages["content"]
    assert body["status"] == "done"
    [retrieved] = [e for e in body["velox"]["events"] if e["kind"] == "knowledge_retrieved"]
    answering = next(c for c in chunks if "500 Wh battery" in c.text)
    assert retrieved["data"]["chunks"][0]["id"] == answering.id
    assert retrieved["data"]["chunks"][0]["distance"] < 0.8
    assert len(retrieved["data"]["chunks"]) <= 2
    # ElevenLabs' shape on the answer's transcript entry
    [answer] = [t for t in body["transcript"] if t["message"] == "Up to ninety kilometres."]
    info = answer["rag_retrieval_info"]
    assert info["chunks"][0] == {
        "document_id": catalogue_id,
        "chunk_id": answering.id,
        "vector_distance": retrieved["data"]["chunks"][0]["distance"],
    }
    assert info["retrieval_query"] == QUESTION
    assert info["embedding_model"] == "all_minilm_l6_v2"
    assert 0 < info["rag_latency_secs"] < 5
    assert all(t["rag_retrieval_info"] is None for t in body["transcript"] if t is not answer)
