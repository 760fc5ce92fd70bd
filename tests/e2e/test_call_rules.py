"""The rules of a Twilio call, each through the real endpoints with a Twilio-protocol caller."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.config.agent import AgentConfig, TransferDestination
from app.providers.base import ChatMessage, ProviderError, TextDelta
from tests.audio_samples import speech_like
from tests.e2e.twilio_rest_double import twilio_rest_double
from tests.e2e.voice_service import AGENT_NUMBER, VoiceService, voice_service
from tests.fakes.providers import (
    Reply,
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ToneTextToSpeech,
    tool_call,
)
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

ANSWER = "We open at nine on weekdays. On Saturdays we open at ten and close at two."


def last_user(messages: list[ChatMessage]) -> str:
    return next(m.content for m in reversed(messages) if m.role == "user")


def config(**velox: object) -> AgentConfig:
    agent = AgentConfig(name="Desk")
    agent.conversation_config.agent.first_message = "Hello."
    for key, value in velox.items():
        setattr(agent.velox, key, value)
    return agent


@contextmanager
def running(
    tmp_path: Path,
    reply: Callable[[list[ChatMessage]], Reply],
    utterances: list[str],
    agent: AgentConfig | None = None,
    **options: str,
) -> Iterator[VoiceService]:
    with voice_service(
        tmp_path,
        config=agent or config(),
        stt=ScriptedSpeechToText(utterances),
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(),
        **options,
    ) as service:
        yield service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    with running(
        tmp_path, lambda m: ANSWER, ["What are your hours?", "Thanks."]
    ) as running_service:
        yield running_service


def caller_for(service: VoiceService, call_sid: str = "CA" + "1" * 32) -> tuple[TwilioCaller, str]:
    stream_url, parameters = service.dial(call_sid)
    caller = TwilioCaller(
        stream_url,
        custom_parameters=parameters,
        call_sid=call_sid,
        headers=service.stream_headers(stream_url),
    )
    return caller, parameters["conversation_id"]


async def wait_for_hang_up(caller: TwilioCaller, within_s: float) -> None:
    """Keep streaming silence, as Twilio does, until the agent closes the stream."""
    line = asyncio.create_task(caller.silence(within_s))
    try:
        await caller.wait_for_close(timeout=within_s)
    finally:
        line.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await line


async def listen_to_greeting(caller: TwilioCaller) -> None:
    await caller.silence(0.2)
    await caller.wait_for_audio(timeout=3)
    await caller.silence(1.0)


# --- signatures ---------------------------------------------------------------------------


def test_voice_webhook_with_a_bad_signature_is_refused(service: VoiceService) -> None:
    url = f"{service.base_url}/twilio/voice"
    forged = httpx.post(url, data={"CallSid": "CA1"}, headers={"X-Twilio-Signature": "bad"})
    unsigned = httpx.post(url, data={"CallSid": "CA1"})
    assert forged.status_code == 403
    assert unsigned.status_code == 403


def test_status_callback_is_checked_and_recorded(service: VoiceService) -> None:
    _, parameters = service.dial(call_sid="CA" + "7" * 32)
    url = f"{service.base_url}/twilio/status"
    form = {"CallSid": "CA" + "7" * 32, "CallStatus": "busy", "CallDuration": "0"}
    assert httpx.post(url, data=form, headers={"X-Twilio-Signature": "bad"}).status_code == 403
    signed = httpx.post(url, data=form, headers={"X-Twilio-Signature": service.sign(url, form)})
    assert signed.status_code == 204
    body = service.conversation(parameters["conversation_id"])
    assert body["status"] == "failed"
    assert any(e["kind"] == "twilio_status" for e in body["velox"]["events"])


async def test_media_stream_upgrade_with_a_bad_signature_is_refused(
    service: VoiceService,
) -> None:
    stream_url, parameters = service.dial()
    with pytest.raises(InvalidStatus) as refused:
        async with TwilioCaller(
            stream_url, custom_parameters=parameters, headers={"X-Twilio-Signature": "forged"}
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_media_stream_signed_over_the_http_form_of_the_url_is_accepted(
    service: VoiceService,
) -> None:
    stream_url, parameters = service.dial()
    http_form = stream_url.replace("ws://", "http://", 1)
    headers = {"X-Twilio-Signature": service.sign(http_form, {})}
    async with TwilioCaller(stream_url, custom_parameters=parameters, headers=headers) as caller:
        await caller.wait_for_audio(timeout=3)


# --- routing ------------------------------------------------------------------------------


def test_a_number_without_an_agent_gets_a_spoken_apology(service: VoiceService) -> None:
    response = service.post_voice(To="+15559990000")
    assert response.status_code == 200
    assert "<Say>" in response.text
    assert "<Hangup" in response.text
    assert "<Stream" not in response.text


def test_the_agent_can_be_named_in_the_webhook_url(service: VoiceService) -> None:
    url = f"{service.base_url}/twilio/voice?agent_id={service.agent_id}"
    params = {"CallSid": "CA" + "5" * 32, "From": "+15550000001", "To": "+15559990000"}
    response = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": service.sign(url, params)}
    )
    assert "<Stream" in response.text
    assert service.agent_id in response.text
    assert AGENT_NUMBER not in response.text


# --- bad input, dropped sockets -----------------------------------------------------------


async def test_malformed_frames_are_skipped_and_counted_and_the_call_goes_on(
    service: VoiceService,
) -> None:
    caller, conversation_id = caller_for(service)
    async with caller:
        await listen_to_greeting(caller)
        await caller.send_raw("{not json")
        await caller.send_raw(b"\x00\x01binary")
        await caller.send_raw(
            json.dumps(
                {"event": "media", "streamSid": caller.stream_sid, "media": {"payload": "%%"}}
            )
        )
        await caller.send_raw(
            json.dumps(
                {
                    "event": "media",
                    "streamSid": "MZ-somebody-else",
                    "sequenceNumber": "9",
                    "media": {
                        "track": "inbound",
                        "chunk": "1",
                        "timestamp": "1",
                        "payload": base64.b64encode(b"\xff" * 160).decode(),
                    },
                }
            )
        )
        before = len(caller.media)
        await caller.play(speech_like(0.8))
        await caller.silence(1.5)
        assert len(caller.media) > before, "the agent still answers after the bad frames"
    body = service.ended_conversation(conversation_id)
    counters = body["velox"]["metrics"]["counters"]
    assert counters["malformed_frames"] == 4
    assert body["transcript"][1]["message"] == "What are your hours?"
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"{service.base_url}/metrics")).text
    assert 'velox_malformed_frames_total{channel="twilio",reason="bad_json"}' in metrics


async def test_a_dropped_socket_mid_sentence_saves_everything_up_to_that_moment(
    service: VoiceService,
) -> None:
    caller, conversation_id = caller_for(service)
    async with caller:
        await listen_to_greeting(caller)
        await caller.play(speech_like(0.8))
        await caller.silence(1.9)  # the first sentence of the answer plays in full
        await caller.drop()
    body = service.ended_conversation(conversation_id)
    assert body["status"] == "done"
    assert body["metadata"]["termination_reason"] == "socket_dropped"
    turns = [(t["role"], t["message"], t["interrupted"]) for t in body["transcript"]]
    assert turns[:2] == [("agent", "Hello.", False), ("user", "What are your hours?", False)]
    assert turns[2] == ("agent", "We open at nine on weekdays.", True)


# --- keypad, tools ------------------------------------------------------------------------


async def test_dtmf_digits_are_events_and_reach_the_llm(tmp_path: Path) -> None:
    with running(tmp_path, lambda m: "Got it.", []) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            for digit in "42#":
                await caller.send_dtmf(digit)
            await caller.silence(1.0)
        body = service.ended_conversation(conversation_id)
        assert [e["data"]["digit"] for e in body["velox"]["events"] if e["kind"] == "dtmf"] == [
            "4",
            "2",
            "#",
        ]
        assert "4 2 #" in last_user(service.llm.requests[-1])


async def test_end_call_tool_hangs_up_after_the_goodbye_is_heard(tmp_path: Path) -> None:
    def goodbye(messages: list[ChatMessage]) -> Reply:
        return [TextDelta("Goodbye, have a nice day."), tool_call("end_call")]

    with running(tmp_path, goodbye, ["That's all, bye."]) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await wait_for_hang_up(caller, within_s=5)
            assert caller.playback_finished
        body = service.ended_conversation(conversation_id)
        assert body["metadata"]["termination_reason"] == "agent_ended_call"
        assert body["transcript"][-1]["message"] == "Goodbye, have a nice day."


async def test_transfer_call_redirects_the_call_through_twilio_rest(tmp_path: Path) -> None:
    agent = config(transfer_destinations=[TransferDestination(phone_number="+15557654321")])

    def transfer(messages: list[ChatMessage]) -> Reply:
        return [
            TextDelta("Connecting you now."),
            tool_call("transfer_call", phone_number="+15557654321"),
        ]

    with (
        twilio_rest_double() as rest,
        running(
            tmp_path, transfer, ["A person please."], agent, twilio_api_base_url=rest.base_url
        ) as service,
    ):
        caller, conversation_id = caller_for(service, call_sid="CA" + "9" * 32)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await wait_for_hang_up(caller, within_s=5)
        body = service.ended_conversation(conversation_id)
    assert body["metadata"]["termination_reason"] == "transferred"
    [update] = rest.requests
    assert update.path == f"/2010-04-01/Accounts/AC{'0' * 32}/Calls/CA{'9' * 32}.json"
    assert "<Dial>+15557654321</Dial>" in update.form["Twiml"]
    assert update.authorization.startswith("Basic ")


# --- silence, duration, provider failure --------------------------------------------------


async def test_silence_gets_a_reprompt_and_then_a_goodbye_and_hang_up(tmp_path: Path) -> None:
    agent = config(reprompt_message="Are you there?", goodbye_message="Bye now.")
    agent.conversation_config.turn.turn_timeout = 1.0
    agent.conversation_config.turn.silence_end_call_timeout = 2.5
    with running(tmp_path, lambda m: ANSWER, [], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await caller.silence(0.2)
            await caller.wait_for_close(timeout=8)
        body = service.ended_conversation(conversation_id)
        said = [t["message"] for t in body["transcript"] if t["role"] == "agent"]
        assert said[0] == "Hello."
        assert "Are you there?" in said
        assert said[-1] == "Bye now."
        assert body["metadata"]["termination_reason"] == "silence_timeout"


async def test_maximum_duration_ends_the_call_with_its_message(tmp_path: Path) -> None:
    agent = config()
    agent.conversation_config.conversation.max_duration_seconds = 10
    agent.conversation_config.agent.max_conversation_duration_message = "Time is up."
    agent.conversation_config.turn.turn_timeout = -1
    agent.conversation_config.turn.silence_end_call_timeout = -1
    with running(tmp_path, lambda m: ANSWER, [], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await caller.silence(0.2)
            await caller.wait_for_close(timeout=14)
        body = service.ended_conversation(conversation_id)
        assert body["transcript"][-1]["message"] == "Time is up."
        assert body["metadata"]["termination_reason"] == "max_duration_reached"


async def test_an_llm_failure_is_apologised_for_and_the_next_turn_is_answered(
    tmp_path: Path,
) -> None:
    def flaky(messages: list[ChatMessage]) -> Reply:
        if "hours" in last_user(messages):
            raise ProviderError("scripted", "upstream 503")
        return "Yes, we are open on Saturdays."

    agent = config(fallback_message="Sorry, say that again?")
    with running(tmp_path, flaky, ["What are your hours?", "Open Saturday?"], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await caller.silence(2.0)
            await caller.play(speech_like(0.6))
            await caller.silence(3.0)
        body = service.ended_conversation(conversation_id)
        said = [t["message"] for t in body["transcript"] if t["role"] == "agent"]
        assert said == ["Hello.", "Sorry, say that again?", "Yes, we are open on Saturdays."]
        errors = [e for e in body["velox"]["events"] if e["kind"] == "provider_error"]
        assert errors
        assert "upstream 503" in errors[0]["data"]["error"]


async def test_webhook_query_parameters_become_the_prompts_dynamic_variables(
    tmp_path: Path,
) -> None:
    agent = config()
    agent.conversation_config.agent.prompt.prompt = "Customer tier: {{ tier }}."
    agent.conversation_config.agent.first_message = "Hello, {{ tier }} member."
    with running(tmp_path, lambda m: "Sure.", [], agent) as service:
        stream_url, parameters = service.dial(
            "CA" + "4" * 32, f"agent_id={service.agent_id}&tier=gold", To="+15559990000"
        )
        assert parameters["tier"] == "gold"
        caller = TwilioCaller(
            stream_url,
            custom_parameters=parameters,
            call_sid="CA" + "4" * 32,
            headers=service.stream_headers(stream_url),
        )
        async with caller:
            await listen_to_greeting(caller)
        body = service.ended_conversation(parameters["conversation_id"])
        assert body["transcript"][0]["message"] == "Hello, gold member."


def test_health_reports_the_database_and_the_providers(service: VoiceService) -> None:
    response = httpx.get(f"{service.base_url}/health")
    assert response.status_code == 200
    components = response.json()["components"]
    assert components["database"]["state"] == "ok"
    assert components["providers"]["available"]["stt"] == ["scripted"]


@pytest.mark.timing
async def test_the_greeting_is_ready_before_the_stream_starts_even_with_a_slow_voice(
    tmp_path: Path,
) -> None:
    slow_voice = ToneTextToSpeech(first_byte_delay_s=0.4)
    with voice_service(
        tmp_path,
        config=config(),
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(lambda m: ANSWER),
        tts=slow_voice,
    ) as service:
        for call in range(2):
            stream_url, parameters = service.dial(call_sid=f"CA{call}" + "0" * 31)
            await asyncio.sleep(0.6)  # Twilio takes a moment to open the stream
            caller = TwilioCaller(
                stream_url,
                custom_parameters=parameters,
                headers=service.stream_headers(stream_url),
            )
            async with caller:
                opened = time.monotonic()
                await caller.silence(0.2)
                await caller.wait_for_audio(timeout=3)
                assert caller.first_audio_at is not None
                assert caller.first_audio_at - opened < 0.1
        assert slow_voice.spoken == ["Hello."]  # synthesized once, replayed for the second call
