"""The unmodified `@elevenlabs/client` from npm, in real Chromium, holds a conversation with Velox.

The page (`tests/e2e/browser/`) bundles the client as any web app would; Chromium is the Debian
package, its microphone a WAV file of real (synthesized) speech. The client is only pointed at
Velox: `origin` for a public agent, or a signed URL from Velox for a private one, and
`connectionType: "websocket"`. It then connects, plays the agent's audio, reports the
transcripts, runs a client tool, and ends; the conversation is read back over the REST API.
The microphone is cued (`tests/e2e/cued_microphone.js`): the caller asks once the greeting has
played, as a person would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from app.config.agent import AgentConfig
from app.observability.metrics import REGISTRY
from app.providers.base import ChatMessage
from tests.e2e.browser_page import (
    ConversationPage,
    ensure_bundle,
    launch_chromium,
    say,
    serve_directory,
    use_cued_microphone,
)
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import (
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ToneTextToSpeech,
    tool_call,
)
from tests.models.spoken import speak

pytestmark = pytest.mark.e2e

CLIENT_VERSION = "1.25.0"  # tests/e2e/browser/package.json pins @elevenlabs/client to this
GREETING = "Hi, thanks for chatting with Acme."
QUESTION = "What are your opening hours?"
ANSWER = "We open at nine on weekdays and at ten on Saturdays."
TOOL_RESULT = "The opening hours are on the screen."  # what the page's client tool returns


def reply(messages: list[ChatMessage]) -> str | list[Any]:
    last = messages[-1]
    if last.role == "tool":
        return ANSWER
    if "hours" in last.content:
        return [tool_call("show_opening_hours", day="Saturday")]
    return "Sure, happy to help."


def agent_body(name: str, *, enable_auth: bool, service: VoiceService) -> dict[str, Any]:
    """An ElevenLabs `agents/create` body whose providers are the service's test doubles."""
    return {
        "name": name,
        "conversation_config": {
            "agent": {
                "first_message": GREETING,
                "prompt": {
                    "prompt": "You answer for Acme.",
                    "tools": [
                        {
                            "type": "client",
                            "name": "show_opening_hours",
                            "description": "Show the opening hours on the user's screen.",
                            "parameters": {
                                "type": "object",
                                "properties": {"day": {"type": "string"}},
                            },
                            "expects_response": True,
                            "response_timeout_secs": 5,
                        }
                    ],
                },
            }
        },
        "platform_settings": {"auth": {"enable_auth": enable_auth}},
        "velox": {
            "providers": {
                "vad": "energy",
                "stt": service.stt.name,
                "llm": service.llm.name,
                "tts": service.tts.name,
            }
        },
    }


def create_agent(service: VoiceService, *, enable_auth: bool) -> str:
    name = "Private web desk" if enable_auth else "Public web desk"
    response = httpx.post(
        f"{service.base_url}/v1/convai/agents/create",
        json=agent_body(name, enable_auth=enable_auth, service=service),
        headers=service.headers,
    )
    response.raise_for_status()
    agent_id: str = response.json()["agent_id"]
    return agent_id


def is_message(text: str) -> str:
    """JS: whether a callback record is `onMessage` reporting `text`."""
    return f"e => e.kind === 'message' && e.data.message === {json.dumps(text)}"


def message_was(text: str) -> str:
    """A `wait_for` predicate: `onMessage` has reported `text`."""
    return f"es => es.some({is_message(text)})"


def websocket_origin(service: VoiceService) -> str:
    """What a web app passes as `origin`: the client appends `/v1/convai/conversation?…`."""
    return service.base_url.replace("http://", "ws://", 1)


def token_reuse_refusals() -> float:
    """Upgrades the service refused because their signed URL had been used already."""
    count = REGISTRY.get_sample_value(
        "velox_conversation_refusals_total", {"reason": "token_reused"}
    )
    return count or 0.0


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    with serve_directory(ensure_bundle()) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    with voice_service(
        tmp_path,
        config=AgentConfig(name="Unused desk"),  # the tests create their agents over REST
        stt=ScriptedSpeechToText([QUESTION]),
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


@pytest.fixture
def browser_tab(chromium: Browser, page_url: str) -> Iterator[ConversationPage]:
    context = chromium.new_context()
    use_cued_microphone(context)
    try:
        yield ConversationPage(context.new_page(), page_url)
    finally:
        context.close()


def test_public_agent_talks_runs_a_client_tool_ends_and_is_saved(
    service: VoiceService, browser_tab: ConversationPage
) -> None:
    agent_id = create_agent(service, enable_auth=False)
    tab = browser_tab

    conversation_id = tab.start(agent_id=agent_id, origin=websocket_origin(service))

    assert conversation_id
    assert tab.events("connect") == [{"conversationId": conversation_id}]
    # The greeting arrives as text and as audio that the client plays.
    tab.wait_for("the greeting in onMessage", message_was(GREETING), 5)
    tab.wait_for("onAudio", "es => es.some(e => e.kind === 'audio')", 5)
    tab.wait_for(
        "the client to speak",
        "es => es.some(e => e.kind === 'mode' && e.data.mode === 'speaking')",
        5,
    )
    # Listening for half a second: the greeting has played out (a gap in a loaded machine's
    # audio would flip the mode back to speaking within it).
    tab.wait_for(
        "the greeting to finish playing",
        "es => { const last = es.filter(e => e.kind === 'mode').at(-1);"
        " return last.data.mode === 'listening' && performance.now() - last.at_ms > 500; }",
        10,
    )
    # The caller asks; the agent shows the hours on screen (a client tool), then answers.
    say(tab.page, speak(QUESTION))
    tab.wait_for("the answer in onMessage", message_was(ANSWER), 20)
    tab.wait_for(
        "the answer to finish playing",
        "es => {"
        f" const modes = es.slice(es.findIndex({is_message(ANSWER)}))"
        ".filter(e => e.kind === 'mode');"
        " return modes.length > 0 && modes.at(-1).data.mode === 'listening'; }",
        10,
    )
    assert tab.max_output_volume() > 0.01, "the agent's audio was never audible on the output"
    tab.end()

    assert tab.messages() == [("ai", GREETING), ("user", QUESTION), ("ai", ANSWER)]
    assert tab.events("clientTool") == [
        {"name": "show_opening_hours", "parameters": {"day": "Saturday"}}
    ]
    assert any(m.role == "tool" and m.content == TOOL_RESULT for m in service.llm.requests[-1])
    vad_scores = [e["vadScore"] for e in tab.events("vadScore")]
    assert vad_scores, "the server sent no VAD scores"
    assert max(vad_scores) >= 0.5, "the server's VAD never heard the microphone"
    assert [e["status"] for e in tab.events("status")] == [
        "connecting",
        "connected",
        "disconnecting",
        "disconnected",
    ]
    assert tab.events("disconnect") == [{"reason": "user"}]
    assert tab.events("error") == []
    assert tab.status() == "disconnected"

    body = service.ended_conversation(conversation_id)
    assert body["status"] == "done"
    assert body["agent_id"] == agent_id
    spoken = [(t["role"], t["message"]) for t in body["transcript"] if t["message"]]
    assert spoken == [("agent", GREETING), ("user", QUESTION), ("agent", ANSWER)]
    assert body["velox"]["channel"] == "websocket"
    initiated = [
        e["data"] for e in body["velox"]["events"] if e["kind"] == "conversation_initiated"
    ]
    assert len(initiated) == 1
    assert initiated[0]["auth"] == "public"
    assert initiated[0]["source"] == "js_sdk"
    assert initiated[0]["source_version"] == CLIENT_VERSION


def test_private_agent_takes_a_signed_url_once(
    service: VoiceService, chromium: Browser, page_url: str
) -> None:
    agent_id = create_agent(service, enable_auth=True)
    response = httpx.get(
        f"{service.base_url}/v1/convai/conversation/get-signed-url",
        params={"agent_id": agent_id},
        headers=service.headers,
    )
    response.raise_for_status()
    signed_url: str = response.json()["signed_url"]

    first = chromium.new_context()
    use_cued_microphone(first)
    try:
        tab = ConversationPage(first.new_page(), page_url)
        conversation_id = tab.start(signed_url=signed_url)
        tab.wait_for("the greeting in onMessage", message_was(GREETING), 5)
        tab.wait_for("onAudio", "es => es.some(e => e.kind === 'audio')", 5)
        tab.end()
        assert tab.events("connect") == [{"conversationId": conversation_id}]
        assert tab.events("disconnect") == [{"reason": "user"}]
        assert tab.events("error") == []
    finally:
        first.close()

    second = chromium.new_context()
    use_cued_microphone(second)
    try:
        tab = ConversationPage(second.new_page(), page_url)
        refusals_before = token_reuse_refusals()
        refusal = tab.start_refused(signed_url=signed_url)
        assert refusal["name"] == "SessionConnectionError"
        assert refusal["closeCode"] == 1006  # how a browser reports a refused upgrade
        assert token_reuse_refusals() == refusals_before + 1
        assert tab.events("connect") == []
        assert [e["status"] for e in tab.events("status")] == ["connecting", "disconnected"]
    finally:
        second.close()

    body = service.ended_conversation(conversation_id)
    assert body["agent_id"] == agent_id
    assert body["velox"]["channel"] == "websocket"
    initiated = [
        e["data"] for e in body["velox"]["events"] if e["kind"] == "conversation_initiated"
    ]
    assert [e["auth"] for e in initiated] == ["signed_url"]
    listed = httpx.get(
        f"{service.base_url}/v1/convai/conversations", headers=service.headers
    ).json()["conversations"]
    assert [c["conversation_id"] for c in listed] == [conversation_id]
