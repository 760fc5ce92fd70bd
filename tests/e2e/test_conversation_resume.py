"""A conversation survives its connection dropping: held for the resume window, taken back by
the client's new socket with its id and resume token, one continuous conversation with one
greeting; refused with the wrong token, and ended when the window passes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.config.agent import AgentConfig
from app.providers.base import ChatMessage
from tests.e2e.socket_client import next_of, receive, refused, socket_url
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

pytestmark = pytest.mark.e2e

GREETING = "Hello there, this is the field desk."
INITIATION = json.dumps({"type": "conversation_initiation_client_data"})
# The tone voice's speed: a line is heard once its audio has had time to play.
MS_PER_CHAR = 8.0


async def heard(text: str) -> None:
    """Wait until the client has played the agent's `text` (the server counts it heard)."""
    await asyncio.sleep(len(text) * MS_PER_CHAR / 1000 + 0.4)


def reply(messages: list[ChatMessage]) -> str:
    return f"You said: {messages[-1].content}"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Field desk")
    config.conversation_config.agent.first_message = GREETING
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(ms_per_char=MS_PER_CHAR),
    ) as running:
        yield running


async def start(service: VoiceService) -> tuple[ClientConnection, dict[str, Any]]:
    """A connected conversation past its greeting, and its initiation metadata."""
    ws = await connect(socket_url(service))
    await ws.send(INITIATION)
    metadata = (await receive(ws))["conversation_initiation_metadata_event"]
    greeting = await next_of(ws, "agent_response")
    assert greeting["agent_response_event"]["agent_response"] == GREETING
    await heard(GREETING)
    return ws, metadata


async def say(ws: ClientConnection, text: str) -> str:
    """Type `text`; the agent's answer."""
    await ws.send(json.dumps({"type": "user_message", "text": text}))
    answer = await next_of(ws, "agent_response")
    said: str = answer["agent_response_event"]["agent_response"]
    await heard(said)
    return said


def drop(ws: ClientConnection) -> None:
    """The connection goes away without a close frame, as when the network does."""
    ws.transport.abort()


async def test_a_dropped_connection_is_resumed_as_the_same_conversation(
    service: VoiceService,
) -> None:
    ws, metadata = await start(service)
    conversation_id = metadata["conversation_id"]
    resume = metadata["velox_resume"]
    assert resume["window_secs"] == 60
    assert await say(ws, "first question") == "You said: first question"
    drop(ws)
    await asyncio.sleep(0.3)  # the server notices the drop and holds the conversation

    url = socket_url(service, conversation_id=conversation_id, resume_token=resume["resume_token"])
    async with connect(url) as again:
        await again.send(INITIATION)
        first = await receive(again)
        assert first["type"] == "conversation_initiation_metadata"
        assert first["conversation_initiation_metadata_event"]["conversation_id"] == (
            conversation_id
        )
        await again.send(json.dumps({"type": "user_message", "text": "second question"}))
        said = []
        while not said or not said[-1].startswith("You said"):
            answer = await next_of(again, "agent_response")
            said.append(answer["agent_response_event"]["agent_response"])
        assert said == ["You said: second question"]  # and no second greeting
        await heard(said[-1])

    body = await asyncio.to_thread(service.ended_conversation, conversation_id)
    assert body["status"] == "done"
    lines = [(t["role"], t["message"]) for t in body["transcript"]]
    assert lines == [
        ("agent", GREETING),
        ("user", "first question"),
        ("agent", "You said: first question"),
        ("user", "second question"),
        ("agent", "You said: second question"),
    ]
    kinds = [event["kind"] for event in body["velox"]["events"]]
    assert kinds.index("connection_lost") < kinds.index("connection_resumed")
    # The model saw one conversation: the first exchange was in its history the second time.
    history = [m.content for m in service.llm.requests[-1]]
    assert "first question" in history


async def test_a_resume_with_the_wrong_token_is_refused(service: VoiceService) -> None:
    ws, metadata = await start(service)
    drop(ws)
    await asyncio.sleep(0.3)
    url = socket_url(service, conversation_id=metadata["conversation_id"], resume_token="forged")
    status, body = await refused(url)
    assert (status, body["detail"]["status"]) == (403, "invalid_resume_token")
    unknown = socket_url(service, conversation_id="conv_nope", resume_token="forged")
    status, body = await refused(unknown)
    assert (status, body["detail"]["status"]) == (410, "resume_unavailable")


async def test_a_conversation_nobody_resumes_ends_when_the_window_passes(
    service: VoiceService,
) -> None:
    service.settings.conversation_resume_window_s = 1.0
    ws, metadata = await start(service)
    conversation_id = metadata["conversation_id"]
    drop(ws)
    await asyncio.sleep(1.8)

    url = socket_url(
        service,
        conversation_id=conversation_id,
        resume_token=metadata["velox_resume"]["resume_token"],
    )
    status, body = await refused(url)
    assert (status, body["detail"]["status"]) == (410, "resume_unavailable")
    saved = await asyncio.to_thread(service.ended_conversation, conversation_id)
    assert saved["status"] == "done"
    assert saved["metadata"]["termination_reason"] == "client_disconnected"
    kinds = [event["kind"] for event in saved["velox"]["events"]]
    assert "resume_window_ended" in kinds


async def test_a_conversation_its_client_closes_ends_at_once(service: VoiceService) -> None:
    ws, metadata = await start(service)
    await ws.close()  # a close frame: the client ended it
    saved = await asyncio.to_thread(service.ended_conversation, metadata["conversation_id"], 2.0)
    assert saved["status"] == "done"
    assert "connection_lost" not in [event["kind"] for event in saved["velox"]["events"]]


async def test_a_client_closing_with_4001_is_resumed_not_ended(service: VoiceService) -> None:
    """A browser cannot drop a socket without a close frame: the field app gives up a quiet
    connection with 4001, which holds the conversation for it like a drop."""
    ws, metadata = await start(service)
    conversation_id = metadata["conversation_id"]
    await ws.close(code=4001, reason="no word from the server")
    await asyncio.sleep(0.3)
    token = metadata["velox_resume"]["resume_token"]
    url = socket_url(service, conversation_id=conversation_id, resume_token=token)
    async with connect(url) as again:  # no initiation needed: the metadata comes unasked
        first = await receive(again)
        assert first["conversation_initiation_metadata_event"]["conversation_id"] == (
            conversation_id
        )
        assert await say(again, "still there?") == "You said: still there?"
    body = await asyncio.to_thread(service.ended_conversation, conversation_id)
    lines = [(t["role"], t["message"]) for t in body["transcript"]]
    assert lines == [
        ("agent", GREETING),
        ("user", "still there?"),
        ("agent", "You said: still there?"),
    ]
