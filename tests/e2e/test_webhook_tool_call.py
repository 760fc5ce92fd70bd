"""A phone call in which the model calls a webhook tool: the Groq double (OpenAI's chat wire
format) emits the tool call, the tool's server on 127.0.0.1 gets it once with its secret header,
the caller cuts in while it runs, and the result is spoken on the next turn and recorded on the
transcript in ElevenLabs' shapes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.config.agent import AgentConfig, FallbackChoice, ProviderChoice
from app.providers import groq as groq_provider
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.audio_samples import speech_like
from tests.e2e.voice_service import RunningService, running_service
from tests.fakes.cloud.groq import GroqChatDouble, GroqScript, ScriptedToolCall
from tests.fakes.providers import ScriptedSpeechToText, ToneTextToSpeech
from tests.local_http import QuietHandler, serving
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

GROQ_KEY = "test-groq-key-0123"
SECRET = "Bearer orders-api-key-91f3"
TOOL_SECONDS = 3.0
ANSWER = ["Your order A7 has shipped", " and arrives on Tuesday."]
APOLOGY = "Sorry, the order system is not answering right now."


class OrdersServer:
    """The tool's server: slow to answer, and once it is asked the model will answer in words."""

    def __init__(self, groq: GroqChatDouble) -> None:
        self.groq = groq
        self.requests: list[dict[str, Any]] = []
        self.called = threading.Event()


@pytest.fixture
def orders(groq: GroqChatDouble) -> Iterator[tuple[str, OrdersServer]]:
    state = OrdersServer(groq)

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            state.requests.append({"path": self.path, "headers": dict(self.headers)})
            if self.path.startswith("/garbage/"):
                state.groq.script = GroqScript(text=[APOLOGY])
                state.called.set()
                self.send_response(200)
                self.send_header("Content-Length", "14")
                self.end_headers()
                self.wfile.write(b"<html>500</htm")
                return
            state.groq.script = GroqScript(text=list(ANSWER))
            state.called.set()
            time.sleep(TOOL_SECONDS)
            self.send_json({"order": "A7", "status": "shipped", "eta": "Tuesday"})

    with serving(Handler) as base_url:
        yield base_url, state


@pytest.fixture
def groq() -> Iterator[GroqChatDouble]:
    script = GroqScript(
        text=["Let me look that up."],
        tool_calls=[ScriptedToolCall("call_order_1", "get_order_status", '{"order_id": "A7"}')],
    )
    with GroqChatDouble(GROQ_KEY, script) as double:
        yield double


async def silence_until(caller: TwilioCaller, event: threading.Event, within_s: float) -> None:
    """The line stays open (silence frames) until `event`, for at most `within_s`."""
    deadline = time.monotonic() + within_s
    while not event.is_set() and time.monotonic() < deadline:
        await caller.silence(0.1)


def agent_config() -> AgentConfig:
    config = AgentConfig(name="Orders desk")
    config.conversation_config.agent.first_message = "Hello, Acme orders."
    config.velox.providers = ProviderChoice(vad="energy", stt="scripted", llm="groq", tts="tone")
    config.velox.fallbacks = FallbackChoice(stt=[], llm=[], tts=[])
    config.velox.tool_filler_after_ms = 600
    # Long enough (about 2.8 s of tone) that the caller's cut-in lands inside it.
    config.velox.tool_filler_message = "One moment please, I am checking the order system for you."
    return config


def attach_order_tool(service: RunningService, base_url: str, path: str = "/orders") -> str:
    """A secret, a webhook tool whose header carries it, the agent naming the tool: all through
    the API."""
    api = httpx.Client(base_url=service.base_url, headers=service.headers)
    secret = api.post("/v1/convai/secrets", json={"type": "new", "name": "orders", "value": SECRET})
    secret.raise_for_status()
    tool = api.post(
        "/v1/convai/tools",
        json={
            "tool_config": {
                "type": "webhook",
                "name": "get_order_status",
                "description": "Look up an order by its number.",
                "response_timeout_secs": 10,
                "pre_tool_speech": "auto",
                "api_schema": {
                    "url": f"{base_url}{path}/{{order_id}}",
                    "method": "GET",
                    "request_headers": {"Authorization": {"secret_id": secret.json()["secret_id"]}},
                    "path_params_schema": {
                        "order_id": {"type": "string", "description": "the order number"}
                    },
                },
            }
        },
    )
    tool.raise_for_status()
    tool_id = str(tool.json()["id"])
    agent = api.patch(
        f"/v1/convai/agents/{service.agent_id}",
        json={"conversation_config": {"agent": {"prompt": {"tool_ids": [tool_id]}}}},
    )
    agent.raise_for_status()
    return tool_id


def providers(stt: ScriptedSpeechToText, groq: GroqChatDouble) -> ProviderRegistry:
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    registry.stt.register(stt.name, lambda: stt)
    registry.tts.register("tone", ToneTextToSpeech)
    groq_provider.register(registry, Settings(groq_base_url=groq.base_url))
    return registry


async def test_a_webhook_tool_is_called_once_its_answer_spoken_after_a_barge_in(
    tmp_path: Path, groq: GroqChatDouble, orders: tuple[str, OrdersServer]
) -> None:
    base_url, server = orders
    stt = ScriptedSpeechToText(["where is my order A7", "hello are you still there"])
    registry = providers(stt, groq)
    with running_service(
        tmp_path, config=agent_config(), registry=registry, allow_private_urls=True
    ) as service:
        service.set_provider_key("groq", GROQ_KEY)
        tool_id = attach_order_tool(service, base_url)
        stream_url, parameters = service.dial()
        async with TwilioCaller(
            stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
        ) as caller:
            await caller.silence(0.3)
            await caller.wait_for_audio(timeout=5)
            greeting = asyncio.create_task(caller.silence(3.0))
            await caller.wait_until_quiet(silence_s=0.3, timeout=5)
            await greeting

            await caller.play(speech_like(1.0))
            await silence_until(caller, server.called, within_s=6.0)
            assert server.called.is_set()
            # The tool is running; the agent fills the wait, and the caller cuts in.
            await caller.silence(1.0)
            await caller.play(speech_like(0.8))
            await caller.silence(7.0)
        body = service.ended_conversation(parameters["conversation_id"])
        async with httpx.AsyncClient(base_url=service.base_url, headers=service.headers) as api:
            stats = await api.get(f"/v1/convai/tools/{tool_id}")

    assert len(server.requests) == 1, "a tool call that started is never run again"
    assert server.requests[0]["path"] == "/orders/A7"
    assert server.requests[0]["headers"]["Authorization"] == SECRET

    asked = [r.body["messages"] for r in groq.requests]
    assert len(asked) >= 2
    later = asked[-1]
    calls = [i for i, m in enumerate(later) if m.get("tool_calls")]
    assert len(calls) == 1, "the model asked for the tool once"
    following = later[calls[0] + 1]
    assert following["role"] == "tool"
    assert following["tool_call_id"] == "call_order_1"
    assert json.loads(following["content"])["status"] == "shipped"

    transcript = body["transcript"]
    messages = [(t["role"], t["message"]) for t in transcript]
    assert ("agent", "".join(ANSWER)) in messages
    assert ("user", "hello are you still there") in messages
    [turn] = [t for t in transcript if t["tool_calls"]]
    [call] = turn["tool_calls"]
    assert call["type"] == "webhook"
    assert call["request_id"] == "call_order_1"
    assert call["tool_name"] == "get_order_status"
    assert json.loads(call["params_as_json"]) == {"order_id": "A7"}
    assert call["tool_has_been_called"] is True
    assert call["tool_details"]["url"].endswith("/orders/A7")
    assert SECRET not in json.dumps(body)
    [result] = turn["tool_results"]
    assert result["request_id"] == "call_order_1"
    assert result["is_error"] is False
    assert json.loads(result["result_value"])["eta"] == "Tuesday"
    assert result["tool_latency_secs"] >= TOOL_SECONDS - 0.1
    # The line that filled the wait was cut short by the caller: the barge-in came mid-tool.
    [filler] = [t for t in transcript if t["velox_source"] == "tool_filler"]
    assert filler["interrupted"] is True
    assert transcript.index(filler) < messages.index(("user", "hello are you still there"))
    assert stats.json()["usage_stats"]["total_calls"] == 1


async def test_a_tool_server_answering_garbage_is_spoken_about_and_the_call_goes_on(
    tmp_path: Path, groq: GroqChatDouble, orders: tuple[str, OrdersServer]
) -> None:
    base_url, server = orders
    stt = ScriptedSpeechToText(["where is my order A7"])
    with running_service(
        tmp_path, config=agent_config(), registry=providers(stt, groq), allow_private_urls=True
    ) as service:
        service.set_provider_key("groq", GROQ_KEY)
        attach_order_tool(service, base_url, "/garbage")
        stream_url, parameters = service.dial()
        async with TwilioCaller(
            stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
        ) as caller:
            await caller.silence(0.3)
            await caller.wait_for_audio(timeout=5)
            greeting = asyncio.create_task(caller.silence(3.0))
            await caller.wait_until_quiet(silence_s=0.3, timeout=5)
            await greeting
            await caller.play(speech_like(1.0))
            await caller.silence(5.0)
        body = service.ended_conversation(parameters["conversation_id"])

    assert len(server.requests) == 1
    transcript = body["transcript"]
    assert ("agent", APOLOGY) in [(t["role"], t["message"]) for t in transcript]
    [turn] = [t for t in transcript if t["tool_results"]]
    [result] = turn["tool_results"]
    assert result["is_error"] is True
    assert result["error_type"] == "invalid_response"
    assert "did not answer JSON" in json.loads(result["result_value"])["error"]
    assert body["status"] == "done"
    assert body["velox"]["metrics"]["counters"]["tool_calls_invalid_response"] == 1
    told = groq.requests[-1].body["messages"]
    assert told[-1]["role"] == "tool"
    assert "error" in json.loads(told[-1]["content"])


async def test_a_built_in_tool_call_is_recorded_on_its_turn_too(tmp_path: Path) -> None:
    script = GroqScript(
        text=["Goodbye!"], tool_calls=[ScriptedToolCall("call_end_1", "end_call", "{}")]
    )
    stt = ScriptedSpeechToText(["that is all, thanks"])
    with (
        GroqChatDouble(GROQ_KEY, script) as groq,
        running_service(tmp_path, config=agent_config(), registry=providers(stt, groq)) as service,
    ):
        service.set_provider_key("groq", GROQ_KEY)
        stream_url, parameters = service.dial()
        async with TwilioCaller(
            stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
        ) as caller:
            await caller.silence(0.3)
            await caller.wait_for_audio(timeout=5)
            greeting = asyncio.create_task(caller.silence(3.0))
            await caller.wait_until_quiet(silence_s=0.3, timeout=5)
            await greeting
            await caller.play(speech_like(1.0))
            line = asyncio.create_task(caller.silence(6.0))  # the line streams until hung up
            try:
                await caller.wait_for_close(timeout=6)
            finally:
                line.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await line
        body = service.ended_conversation(parameters["conversation_id"])

    assert body["metadata"]["termination_reason"] == "agent_ended_call"
    [turn] = [t for t in body["transcript"] if t["tool_calls"]]
    assert turn["message"] == "Goodbye!"
    [call] = turn["tool_calls"]
    assert (call["type"], call["tool_name"], call["tool_has_been_called"]) == (
        "system",
        "end_call",
        True,
    )
    [result] = turn["tool_results"]
    assert result["request_id"] == "call_end_1"
    assert result["is_error"] is False
