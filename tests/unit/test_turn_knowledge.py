"""Retrieval per turn: started on the final transcript, reused by the answer, recorded as an
event, and never failing the turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.engine.knowledge import RetrievedChunk, TurnKnowledge, with_knowledge
from app.providers.base import ChatMessage

pytestmark = pytest.mark.unit

HOURS = RetrievedChunk("chunk_1", "kb_1", "We open at nine.", 0.21)


class Events:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, kind: str, **data: Any) -> None:
        self.events.append((kind, data))


class Source:
    """A knowledge source answering from a fixed list (or failing) after `delay_s`."""

    embedding_model = "test_model"

    def __init__(self, chunks: list[RetrievedChunk] | Exception, delay_s: float = 0.0) -> None:
        self.chunks = chunks
        self.delay_s = delay_s
        self.queries: list[str] = []

    async def prompt_section(self) -> str:
        return ""

    async def retrieve(self, query: str) -> list[RetrievedChunk]:
        self.queries.append(query)
        await asyncio.sleep(self.delay_s)
        if isinstance(self.chunks, Exception):
            raise self.chunks
        return self.chunks


async def test_the_answer_uses_the_search_started_on_the_final_transcript() -> None:
    source, events = Source([HOURS], delay_s=0.05), Events()
    knowledge = TurnKnowledge(source, events)

    knowledge.prefetch("when do you open")
    await asyncio.sleep(0.06)  # the end-of-turn decision takes this long
    context = await knowledge.context_for("when do you open", "r1")

    assert source.queries == ["when do you open"]
    assert context is not None
    assert "We open at nine." in context.content
    [(kind, data)] = events.events
    assert kind == "knowledge_retrieved"
    assert data["prefetched"] is True
    assert data["chunks"] == [{"id": "chunk_1", "document_id": "kb_1", "distance": 0.21}]


async def test_a_turn_whose_words_changed_searches_for_the_new_words() -> None:
    source = Source([HOURS])
    knowledge = TurnKnowledge(source, Events())

    knowledge.prefetch("when do you")
    await knowledge.context_for("when do you open on sunday", "r1")

    assert source.queries[-1] == "when do you open on sunday"


async def test_a_failing_search_is_an_event_and_the_turn_goes_on_without_passages() -> None:
    source, events = Source(RuntimeError("database gone")), Events()
    knowledge = TurnKnowledge(source, events)

    context = await knowledge.context_for("when do you open", "r1")

    assert context is None
    assert events.events[0][0] == "knowledge_retrieval_failed"


async def test_no_passages_found_adds_nothing_but_is_still_recorded() -> None:
    events = Events()
    context = await TurnKnowledge(Source([]), events).context_for("hello", "r1")

    assert context is None
    assert events.events[0][1]["chunks"] == []


def test_passages_go_just_before_the_callers_last_words() -> None:
    messages = [
        ChatMessage("system", "You are a shop."),
        ChatMessage("user", "hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "when do you open"),
    ]
    passages = ChatMessage("system", "passages")

    sent = with_knowledge(messages, passages)

    assert [m.content for m in sent] == [
        "You are a shop.",
        "hi",
        "Hello!",
        "passages",
        "when do you open",
    ]
    assert with_knowledge(messages, None) == messages
