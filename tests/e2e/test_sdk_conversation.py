"""The official `elevenlabs` Python SDK holds conversations with a Velox agent, unmodified.

Only the base URL changes: `ElevenLabs(base_url=…)`. The SDK's own `AsyncConversation` and
`Conversation` connect to `WS /v1/convai/conversation`, speak real (synthesized) speech, hear the
agent, are interrupted, run a client tool, and read the conversation back with
`conversations.get`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from elevenlabs import ElevenLabs
from elevenlabs.conversational_ai.conversation import (
    AsyncConversation,
    ClientTools,
    Conversation,
    ConversationInitiationData,
)

from app.config.agent import AgentConfig, PromptTool
from app.providers.base import ChatMessage
from tests.e2e.sdk_audio import RecordingAsyncAudio, RecordingAudio
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import (
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ToneTextToSpeech,
    tool_call,
)
from tests.models.spoken import speak

pytestmark = pytest.mark.e2e

GREETING = "Hi, thanks for chatting with Acme."
ANSWER = (
    "We open at nine in the morning on weekdays. "
    "On Saturdays we open at ten and close at two. "
    "We are closed on Sundays and on public holidays. "
    "You can also book online at any time of the day."
)
QUESTION = "What are your opening hours?"
BOOKING = "Can I book for Tuesday instead?"
CONFIRMATION = "I opened the calendar for Tuesday."


def reply(messages: list[ChatMessage]) -> str | list[Any]:
    last = messages[-1]
    if last.role == "tool":
        return CONFIRMATION
    if "hours" in last.content:
        return ANSWER
    if "book" in last.content:
        return [tool_call("open_calendar", day="Tuesday")]
    return "Sure, happy to help."


def agent_config() -> AgentConfig:
    config = AgentConfig(name="Web desk")
    config.conversation_config.agent.first_message = GREETING
    config.conversation_config.agent.prompt.prompt = "You answer for {{company}}."
    config.conversation_config.agent.prompt.tools = [
        PromptTool(
            name="open_calendar",
            description="Show the booking calendar on the user's screen at a day.",
            parameters={"type": "object", "properties": {"day": {"type": "string"}}},
            expects_response=True,
            response_timeout_secs=5,
        )
    ]
    config.platform_settings.overrides.conversation_config_override = {
        "conversation": {"text_only": True}
    }
    return config


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    stt = ScriptedSpeechToText([QUESTION, BOOKING])
    with voice_service(
        tmp_path,
        config=agent_config(),
        stt=stt,
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


def sdk(service: VoiceService) -> ElevenLabs:
    return ElevenLabs(api_key=service.api_key, base_url=service.base_url)


async def eventually(condition: Callable[[], bool], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def seconds_of(pcm16: bytes | bytearray) -> float:
    return len(pcm16) / 32_000


async def test_async_sdk_talks_is_interrupted_runs_a_client_tool_and_reads_back(
    service: VoiceService,
) -> None:
    client = sdk(service)
    audio = RecordingAsyncAudio()
    agent_said: list[str] = []
    corrections: list[tuple[str, str]] = []
    user_said: list[str] = []
    tool_calls: list[dict[str, Any]] = []

    async def on_agent(text: str) -> None:
        agent_said.append(text)

    async def on_correction(original: str, corrected: str) -> None:
        corrections.append((original, corrected))

    async def on_user(text: str) -> None:
        user_said.append(text)

    def open_calendar(parameters: dict[str, Any]) -> str:
        tool_calls.append(parameters)
        return "the calendar is open at Tuesday"

    tools = ClientTools()
    tools.register("open_calendar", open_calendar)
    conversation = AsyncConversation(
        client,
        service.agent_id,
        requires_auth=False,
        audio_interface=audio,
        config=ConversationInitiationData(dynamic_variables={"company": "Acme"}),
        client_tools=tools,
        callback_agent_response=on_agent,
        callback_agent_response_correction=on_correction,
        callback_user_transcript=on_user,
    )
    await conversation.start_session()
    try:
        await eventually(lambda: GREETING in agent_said, 5, "the greeting's text")
        await eventually(lambda: seconds_of(audio.received) > 1.5, 5, "the greeting's audio")
        await asyncio.sleep(0.5)  # the greeting ends: the question does not interrupt it

        await audio.say(speak(QUESTION))
        await eventually(lambda: ANSWER in agent_said, 5, "the answer")
        assert user_said == [QUESTION]
        heard_before = len(audio.received)
        await eventually(
            lambda: seconds_of(audio.received[heard_before:]) > 2.6, 6, "the answer's audio"
        )  # its first sentence (2 s) has played: the caller heard that much

        await audio.say(speak(BOOKING))  # over the agent, which is still answering
        await eventually(lambda: audio.interruptions >= 1, 5, "an interruption")
        await eventually(lambda: bool(corrections), 5, "the corrected agent response")
        original, corrected = corrections[0]
        assert original == ANSWER
        assert corrected
        assert len(corrected) < len(ANSWER)
        assert ANSWER.startswith(corrected)

        await eventually(lambda: CONFIRMATION in agent_said, 10, "the reply after the tool")
        await eventually(lambda: audio.quiet_for(0.6), 5, "the reply to play out")
        assert user_said == [QUESTION, BOOKING]
        assert tool_calls
        assert tool_calls[0]["day"] == "Tuesday"
        assert tool_calls[0]["tool_call_id"]
    finally:
        await conversation.end_session()
    conversation_id = await conversation.wait_for_session_end()
    assert conversation_id

    # The SDK's tool result went back to the LLM as the tool's answer.
    tool_results = [m for r in service.llm.requests for m in r if m.role == "tool"]
    assert tool_results
    assert tool_results[0].content == "the calendar is open at Tuesday"
    # The prompt was rendered with the client's dynamic variables.
    assert service.llm.requests[0][0].content == "You answer for Acme."

    body = service.ended_conversation(conversation_id)
    stored = client.conversational_ai.conversations.get(conversation_id)
    assert stored.conversation_id == conversation_id
    roles = [(entry.role, entry.message) for entry in stored.transcript]
    assert ("user", QUESTION) in roles
    assert ("user", BOOKING) in roles
    assert ("agent", CONFIRMATION) in roles
    interrupted = [t for t in body["transcript"] if t["interrupted"]]
    assert interrupted
    assert interrupted[0]["message"] == corrected
    assert body["velox"]["channel"] == "websocket"
    initiated = [e for e in body["velox"]["events"] if e["kind"] == "conversation_initiated"]
    assert initiated[0]["data"]["source"] == "python_sdk"


def create_private_agent(service: VoiceService) -> str:
    body = {
        "name": "Private desk",
        "conversation_config": {"agent": {"first_message": GREETING}},
        "platform_settings": {"auth": {"enable_auth": True}},
        "velox": {
            "providers": {"vad": "energy", "stt": "scripted", "llm": "scripted", "tts": "tone"}
        },
    }
    response = httpx.post(
        f"{service.base_url}/v1/convai/agents/create", json=body, headers=service.headers
    )
    response.raise_for_status()
    agent_id: str = response.json()["agent_id"]
    return agent_id


def test_sync_sdk_reaches_a_private_agent_through_a_signed_url(service: VoiceService) -> None:
    agent_id = create_private_agent(service)
    client = sdk(service)
    audio = RecordingAudio()
    agent_said: list[str] = []
    user_said: list[str] = []
    answered = threading.Event()

    def on_agent(text: str) -> None:
        agent_said.append(text)
        if text == ANSWER:
            answered.set()

    conversation = Conversation(
        client,
        agent_id,
        requires_auth=True,
        audio_interface=audio,
        callback_agent_response=on_agent,
        callback_user_transcript=user_said.append,
    )
    conversation.start_session()
    try:
        wait_until(lambda: seconds_of(audio.received) > 1.5, 5, "the greeting's audio")
        assert GREETING in agent_said
        time.sleep(0.5)
        audio.say(speak(QUESTION))
        assert answered.wait(8), agent_said
        assert user_said == [QUESTION]
        wait_until(lambda: seconds_of(audio.received) > 3.5, 5, "the answer's audio")
    finally:
        conversation.end_session()
    conversation_id = conversation.wait_for_session_end()
    assert conversation_id
    service.ended_conversation(conversation_id)
    stored = client.conversational_ai.conversations.get(conversation_id)
    assert [e.message for e in stored.transcript if e.role == "user"] == [QUESTION]


async def test_text_only_sdk_session_answers_typed_messages_without_audio(
    service: VoiceService,
) -> None:
    agent_said: list[str] = []

    async def on_agent(text: str) -> None:
        agent_said.append(text)

    conversation = AsyncConversation(
        sdk(service),
        service.agent_id,
        requires_auth=False,
        config=ConversationInitiationData(dynamic_variables={"company": "Acme"}),
        callback_agent_response=on_agent,
    )
    await conversation.start_session()
    try:
        await eventually(lambda: GREETING in agent_said, 5, "the greeting's text")
        await conversation.send_contextual_update("The user is looking at the pricing page.")
        await conversation.send_user_message("What are your opening hours?")
        await eventually(lambda: ANSWER in agent_said, 5, "the typed question's answer")
    finally:
        await conversation.end_session()
    conversation_id = await conversation.wait_for_session_end()
    seen = service.llm.requests[-1]
    assert any(m.role == "system" and "pricing page" in m.content for m in seen)
    body = service.ended_conversation(conversation_id)
    user_turns = [t for t in body["transcript"] if t["role"] == "user"]
    assert [(t["message"], t["velox_source"]) for t in user_turns] == [(QUESTION, "text")]
    assert service.tts.spoken == []  # a text-only conversation is never synthesized


def test_conversations_list_tells_the_channel(service: VoiceService) -> None:
    response = httpx.get(f"{service.base_url}/v1/convai/conversations", headers=service.headers)
    response.raise_for_status()
    assert response.json()["conversations"] == []
    # a web conversation and a phone call, side by side
    _, parameters = service.dial()
    conversation = Conversation(
        sdk(service), service.agent_id, requires_auth=False, audio_interface=RecordingAudio()
    )
    conversation.start_session()
    time.sleep(0.5)
    conversation.end_session()
    web_id = conversation.wait_for_session_end()
    service.ended_conversation(web_id)
    listed = httpx.get(
        f"{service.base_url}/v1/convai/conversations", headers=service.headers
    ).json()["conversations"]
    channels = {c["conversation_id"]: c["channel"] for c in listed}
    assert channels[web_id] == "websocket"
    assert channels[parameters["conversation_id"]] == "twilio"
