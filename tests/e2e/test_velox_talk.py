"""`velox talk`: a typed conversation from a terminal, against a real server.

The client reads its turns from a text stream (a keyboard or a pipe), prints what the agent
says, and the conversation is saved like any other, with the typed turns in its transcript.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from app.config.agent import AgentConfig
from app.providers.base import ChatMessage
from telephony.convai.talk import talk
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

pytestmark = pytest.mark.e2e

GREETING = "Hello, this is the front desk."


def reply(messages: list[ChatMessage]) -> str:
    return f"You said: {messages[-1].content}"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


async def test_typed_turns_are_answered_printed_and_saved(service: VoiceService) -> None:
    printed: list[str] = []
    lines = io.StringIO("What are your opening hours?\n\nDo you take new patients?\n")

    conversation_id = await talk(
        service.base_url, service.agent_id, service.api_key, lines, printed.append
    )

    assert conversation_id is not None
    agent_lines = [line for line in printed if line.startswith("agent> ")]
    assert agent_lines == [
        f"agent> {GREETING}",
        "agent> You said: What are your opening hours?",
        "agent> You said: Do you take new patients?",
    ]
    body = service.ended_conversation(conversation_id)
    said = [(turn["role"], turn["message"]) for turn in body["transcript"]]
    assert ("user", "What are your opening hours?") in said
    assert ("user", "Do you take new patients?") in said
    assert ("agent", "You said: Do you take new patients?") in said


async def test_quit_word_ends_the_conversation_before_the_rest(service: VoiceService) -> None:
    printed: list[str] = []
    lines = io.StringIO("Hello?\n/bye\nThis line is never sent.\n")

    conversation_id = await talk(
        service.base_url, service.agent_id, service.api_key, lines, printed.append
    )

    assert conversation_id is not None
    body = service.ended_conversation(conversation_id)
    said = [turn["message"] for turn in body["transcript"] if turn["role"] == "user"]
    assert said == ["Hello?"]


async def test_a_private_agent_without_a_key_is_refused_with_the_reason(
    service: VoiceService,
) -> None:
    async with httpx.AsyncClient(base_url=service.base_url, headers=service.headers) as client:
        response = await client.patch(
            f"/v1/convai/agents/{service.agent_id}",
            json={"platform_settings": {"auth": {"enable_auth": True}}},
        )
    response.raise_for_status()
    with pytest.raises(InvalidStatus) as refused:
        await talk(service.base_url, service.agent_id, None, io.StringIO(""), print)
    assert refused.value.response.status_code == 403


async def test_an_agent_that_redacts_stores_no_phone_number_but_heard_it(
    tmp_path: Path,
) -> None:
    config = AgentConfig(name="Careful desk")
    config.conversation_config.agent.first_message = GREETING
    config.platform_settings.privacy.redact_pii = True
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(),
    ) as service:
        said = "Call me back at 415 555 0134 or write to ann@example.com"
        conversation_id = await talk(
            service.base_url, service.agent_id, service.api_key, io.StringIO(said + "\n"), print
        )
        assert conversation_id is not None
        body = service.ended_conversation(conversation_id)
        stored = " ".join(turn["message"] for turn in body["transcript"])
        assert "415" not in stored
        assert "ann@example.com" not in stored
        assert "Call me back at [phone number] or write to [email]" in stored
        # During the call the agent had the caller's words as they were.
        assert any(said in m.content for r in service.llm.requests for m in r)
