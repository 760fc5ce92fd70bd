"""A node asked to stop drains: new calls are refused, the calls in progress end politely.

The drain is started the way SIGTERM starts it (`Drainer.begin`; `velox serve` installs the
signal, which the in-process test server cannot) with 20 Twilio calls in progress: 5 callers
hang up within the drain timeout, the other 15 hear the shutdown message to its end, then the
agent hangs up. Every call is saved; a new call meanwhile is answered 503, and a new
conversation on the socket is closed 1013.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.calls.draining import SHUTDOWN_REASON
from app.config.agent import AgentConfig
from app.providers.base import ChatMessage
from tests.e2e.socket_client import closed_with_error, socket_url
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

GREETING = "Hi, thanks for calling Acme."
CALLS = 20
HANGING_UP = 5
DRAIN_TIMEOUT_S = 2.0


def answer(messages: list[ChatMessage]) -> str:
    return "Sure, happy to help with that."


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(answer),
        tts=ToneTextToSpeech(),
        drain_timeout_s=DRAIN_TIMEOUT_S,
    ) as running:
        yield running


async def test_a_draining_node_refuses_new_calls_and_ends_its_calls_politely(
    service: VoiceService,
) -> None:
    dialled = [service.dial(call_sid=f"CA{n:032d}") for n in range(CALLS)]
    callers = [
        TwilioCaller(url, custom_parameters=params, headers=service.stream_headers(url))
        for url, params in dialled
    ]
    for caller in callers:
        await caller.__aenter__()
    try:
        listening = [asyncio.create_task(caller.silence(30.0)) for caller in callers]
        # Every call is in progress: its greeting has played.
        await asyncio.gather(*(caller.wait_for_audio(timeout=10) for caller in callers))
        await asyncio.gather(
            *(caller.wait_until_quiet(silence_s=0.3, timeout=10) for caller in callers)
        )
        heard_before = [len(caller.media) for caller in callers]

        service.app.state.drainer.begin()
        await asyncio.sleep(0.3)
        refused = await asyncio.to_thread(service.post_voice, call_sid="CA" + "9" * 32)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        # A new conversation on the socket: an error event, then close 1013 (try again later).
        await closed_with_error(socket_url(service), "shutting down")

        # Five callers hang up while the node drains; the others stay on the line.
        for caller in callers[:HANGING_UP]:
            await caller.stop()
        staying = callers[HANGING_UP:]
        await asyncio.gather(*(caller.wait_for_close(timeout=20) for caller in staying))
        for caller, before in zip(staying, heard_before[HANGING_UP:], strict=True):
            assert len(caller.media) > before, "the agent says goodbye before it hangs up"
        for task in listening:
            task.cancel()
    finally:
        for caller in callers:
            await caller.__aexit__(None, None, None)

    message = service.settings.shutdown_message
    for index, (_, params) in enumerate(dialled):
        body = await asyncio.to_thread(service.ended_conversation, params["conversation_id"])
        assert body["status"] == "done", body["conversation_id"]
        reason = body["metadata"]["termination_reason"]
        if index < HANGING_UP:
            assert reason == "caller_hung_up"
            continue
        assert reason == SHUTDOWN_REASON
        last = body["transcript"][-1]
        # Heard to its end (its marks came back), not cut mid-word.
        assert (last["role"], last["message"], last["interrupted"]) == ("agent", message, False)
