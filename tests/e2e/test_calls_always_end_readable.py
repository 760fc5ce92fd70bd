"""Every way a call can end leaves a finished conversation that reads back (issue 13, class 3).

Lone UTF-16 surrogates (which JSON allows and no database or UTF-8 writer does) arrive in a
typed message, a context update or a keypad digit; a Twilio stream announces a media format it
does not send. None of these may leave a conversation "in progress" or unreadable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from app.config.agent import AgentConfig
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Desk")
    config.conversation_config.agent.first_message = "Hi."
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(lambda messages: "Noted."),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


def read_back(service: VoiceService, conversation_id: str) -> dict[str, object]:
    body = service.ended_conversation(conversation_id)
    response = httpx.get(
        f"{service.base_url}/v1/convai/conversations/{conversation_id}", headers=service.headers
    )
    assert response.status_code == 200, response.text
    assert body["status"] in ("done", "failed")
    return body


@pytest.mark.parametrize("message_type", ["user_message", "contextual_update"])
@pytest.mark.parametrize("text", ["hello \ud800", "\udfff", "a\ud83d"])
async def test_a_lone_surrogate_on_the_conversation_socket_is_saved_and_reads_back(
    service: VoiceService, message_type: str, text: str
) -> None:
    url = service.base_url.replace("http://", "ws://")
    url += f"/v1/convai/conversation?agent_id={service.agent_id}"
    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "conversation_initiation_client_data"}))
        metadata = json.loads(await ws.recv())
        while metadata["type"] != "conversation_initiation_metadata":
            metadata = json.loads(await ws.recv())
        conversation_id = metadata["conversation_initiation_metadata_event"]["conversation_id"]
        await ws.send(json.dumps({"type": message_type, "text": text}))  # "\ud800" escaped
        await asyncio.sleep(0.5)
    body = read_back(service, conversation_id)
    assert body["status"] == "done"
    if message_type == "user_message":
        users = [t["message"] for t in body["transcript"] if t["role"] == "user"]  # type: ignore[index]
        assert users
        assert "\ufffd" in users[0]


async def test_a_lone_surrogate_as_a_keypad_digit_is_saved_and_reads_back(
    service: VoiceService,
) -> None:
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.send_dtmf("\ud800")
        await caller.silence(0.3)
    body = read_back(service, parameters["conversation_id"])
    assert body["status"] == "done"


@pytest.mark.parametrize(
    "media_format",
    [
        {"encoding": "audio/x-mulaw", "sampleRate": 16000, "channels": 1},
        {"encoding": "audio/x-mulaw", "sampleRate": 0, "channels": 1},
        {"encoding": "audio/x-l16", "sampleRate": 8000, "channels": 1},
        {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 2},
    ],
    ids=["16-kHz", "0-Hz", "linear", "stereo"],
)
async def test_a_stream_in_a_format_twilio_does_not_send_is_closed_and_its_call_ends_failed(
    service: VoiceService, media_format: dict[str, object]
) -> None:
    stream_url, parameters = service.dial()
    async with connect(stream_url, additional_headers=service.stream_headers(stream_url)) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        start = {
            "accountSid": "AC" + "0" * 32,
            "streamSid": "MZ" + "0" * 32,
            "callSid": "CA" + "1" * 32,
            "tracks": ["inbound"],
            "customParameters": parameters,
            "mediaFormat": media_format,
        }
        await ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "start": start}))
        async with asyncio.timeout(5):
            await ws.wait_closed()
        assert ws.close_code == 1003
        assert ws.close_reason.startswith("unsupported media format")
    body = read_back(service, parameters["conversation_id"])
    assert body["status"] == "failed"
    events = [event["kind"] for event in body["velox"]["events"]]  # type: ignore[index]
    assert "start_failed" in events


def test_a_call_whose_agent_has_no_usable_provider_hears_why_and_ends_failed(
    service: VoiceService,
) -> None:
    httpx.patch(
        f"{service.base_url}/v1/convai/agents/{service.agent_id}",
        json={"velox": {"providers": {"llm": "gorq"}}},
        headers=service.headers,
    ).raise_for_status()

    response = service.post_voice()

    assert response.status_code == 200
    assert "not available" in response.text
    listed = httpx.get(
        f"{service.base_url}/v1/convai/conversations",
        params={"agent_id": service.agent_id},
        headers=service.headers,
    ).json()["conversations"]
    body = read_back(service, listed[0]["conversation_id"])
    assert body["status"] == "failed"
    assert body["metadata"]["termination_reason"] == "no_provider"  # type: ignore[index]
    [event] = body["velox"]["events"]  # type: ignore[index]
    assert event["kind"] == "start_failed"
    assert "gorq" in event["data"]["error"]
