"""A tenant's hostile template stalls nothing, is never spoken, and its call still ends saved.

The agents here are stored directly (as one saved before templates were checked at save time,
or whose variables only make it fail at call time), so the call path itself is what is tested.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
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

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}Hi"


@pytest.fixture
def service_with(tmp_path: Path) -> Iterator[object]:
    services: list[object] = []

    def open_service(first_message: str, prompt: str) -> VoiceService:
        config = AgentConfig(name="Hostile")
        config.conversation_config.agent.first_message = first_message
        config.conversation_config.agent.prompt.prompt = prompt
        manager = voice_service(
            tmp_path,
            config=config,
            stt=ScriptedSpeechToText([]),
            llm=ScriptedLanguageModel(lambda messages: "Fine."),
            tts=ToneTextToSpeech(),
        )
        services.append(manager)
        return manager.__enter__()

    yield open_service
    for manager in services:
        manager.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.mark.timing
def test_a_first_message_that_loops_for_ever_does_not_hold_the_webhook_or_health(
    service_with: object,
) -> None:
    service: VoiceService = service_with(NESTED_LOOPS, "Be brief.")  # type: ignore[operator]
    health_times: list[float] = []

    def probe_health() -> None:
        for _ in range(10):
            started = time.monotonic()
            httpx.get(f"{service.base_url}/health", timeout=10)
            health_times.append(time.monotonic() - started)
            time.sleep(0.05)

    prober = threading.Thread(target=probe_health)
    prober.start()
    started = time.monotonic()
    response = service.post_voice()
    webhook_s = time.monotonic() - started
    prober.join()
    assert response.status_code == 200
    assert webhook_s < 5.0  # the render's deadline is 1 s (25.5 s before the fix)
    assert max(health_times) < 1.0, health_times


@pytest.mark.parametrize(
    ("first_message", "prompt"),
    [
        ("{{ 1/0 }}", "Be brief."),
        ("{{ range(200000)|list }}", "{{ 10**5000 }}"),
        ("Hello!", "{{ 'x' * 20000000 }}"),
        ("Hello!", "{{ 1/0 }}"),
    ],
    ids=[
        "message-divides-by-zero",
        "message-huge-list-prompt-huge-int",
        "huge-prompt",
        "prompt-raises",
    ],
)
async def test_a_failing_template_gives_the_fallback_and_the_call_ends_saved(
    service_with: object, first_message: str, prompt: str
) -> None:
    service: VoiceService = service_with(first_message, prompt)  # type: ignore[operator]
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=5)
        await caller.silence(1.0)

    body = service.ended_conversation(parameters["conversation_id"])
    assert body["status"] == "done", body["status"]
    kinds = [event["kind"] for event in body["velox"]["events"]]
    spoken = service.tts.spoken  # type: ignore[attr-defined]
    if first_message != "Hello!":
        assert "first_message_template_error" in kinds
        # The greeting is the fallback (warmed by the webhook, spoken by the call), never the
        # template's source.
        assert spoken
        assert set(spoken) == {"Sorry, I'm having trouble right now.", "Could you say that again?"}
    else:
        assert spoken[0] == "Hello!"
    if prompt != "Be brief.":
        assert "prompt_template_error" in kinds
    assert all("{{" not in text and "{%" not in text for text in spoken)


async def test_a_failing_prompt_on_the_conversation_socket_still_talks_and_ends_saved(
    service_with: object,
) -> None:
    service: VoiceService = service_with("Hello!", "{{ 1/0 }}")  # type: ignore[operator]
    url = service.base_url.replace("http://", "ws://")
    async with connect(f"{url}/v1/convai/conversation?agent_id={service.agent_id}") as ws:
        await ws.send(json.dumps({"type": "conversation_initiation_client_data"}))
        kinds: list[str] = []
        async with asyncio.timeout(10):
            while "audio" not in kinds:
                message = json.loads(await ws.recv())
                kinds.append(message["type"])
                if message["type"] == "conversation_initiation_metadata":
                    event = message["conversation_initiation_metadata_event"]
                    conversation_id = event["conversation_id"]
    body = service.ended_conversation(conversation_id)
    assert body["status"] == "done"
    assert "prompt_template_error" in [event["kind"] for event in body["velox"]["events"]]
