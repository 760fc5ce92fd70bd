"""A warm transfer on Twilio (`transfer_to_number`, `transfer_type: "conference"`): the live call
is redirected to a `<Dial>` whose `<Number url>` whisper plays the call's summary, in the
agent's voice, to the person who answers before the caller is joined. The Twilio double runs
the TwiML as Twilio would: the caller's `<Play>`, the whisper's signed POST, its audio."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.providers.base import ChatMessage, TextDelta, ToolCall
from tests.audio_samples import speech_like
from tests.e2e.test_call_rules import caller_for, listen_to_greeting, running, wait_for_hang_up
from tests.e2e.test_system_tools import agent_with, tool_turn
from tests.e2e.twilio_rest_double import run_warm_transfer, twilio_rest_double
from tests.e2e.voice_service import VoiceService
from tests.fakes.providers import Reply, ToneTextToSpeech

pytestmark = pytest.mark.e2e

DESK = "+15557654321"
CALL_SID = "CA" + "9" * 32
SUMMARY = "Ann wants a refund for order twelve."
HOLD = "Please hold while I connect you."


def warm_agent() -> Any:
    return agent_with(
        transfer_to_number={
            "transfers": [
                {
                    "transfer_destination": {"type": "phone", "phone_number": DESK},
                    "condition": "refunds",
                    "transfer_type": "conference",
                }
            ]
        }
    )


def seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as audio:
        return audio.getnframes() / audio.getframerate()


def said_for(text: str) -> float:
    """How long the tone voice speaks `text`."""
    return len(text) * ToneTextToSpeech.ms_per_char / 1000


async def call_until_transferred(service: VoiceService) -> dict[str, Any]:
    caller, conversation_id = caller_for(service, call_sid=CALL_SID)
    async with caller:
        await listen_to_greeting(caller)
        await caller.play(speech_like(0.6))
        await wait_for_hang_up(caller, within_s=10)
    return service.ended_conversation(conversation_id)


async def test_the_person_hears_the_models_summary_before_the_caller_is_joined(
    tmp_path: Path,
) -> None:
    arguments = {"transfer_number": DESK, "agent_message": SUMMARY, "client_message": HOLD}

    def transfer(messages: list[ChatMessage]) -> Reply:
        return [TextDelta("Of course."), ToolCall("call_t", "transfer_to_number", arguments)]

    with (
        twilio_rest_double() as rest,
        running(
            tmp_path,
            transfer,
            ["A refund, please."],
            warm_agent(),
            twilio_api_base_url=rest.base_url,
        ) as service,
    ):
        body = await call_until_transferred(service)
        [update] = rest.requests
        heard = run_warm_transfer(update.form["Twiml"], service.sign, CALL_SID)
    assert body["metadata"]["termination_reason"] == "transferred"
    assert heard.dialled == DESK
    assert SUMMARY in service.tts.spoken
    assert HOLD in service.tts.spoken
    # Each side heard its words whole, in the agent's voice.
    assert seconds(heard.summary_audio) == pytest.approx(said_for(SUMMARY), rel=0.05)
    assert heard.caller_audio is not None
    assert seconds(heard.caller_audio) == pytest.approx(said_for(HOLD), rel=0.05)
    [briefed] = [e["data"] for e in body["velox"]["events"] if e["kind"] == "warm_transfer_briefed"]
    assert briefed["summary"] == SUMMARY
    [result] = tool_turn(body, "transfer_to_number")["tool_results"]
    assert result["is_error"] is False


async def test_without_the_models_summary_the_person_hears_the_callers_words(
    tmp_path: Path,
) -> None:
    def transfer(messages: list[ChatMessage]) -> Reply:
        return [ToolCall("call_t", "transfer_to_number", {"transfer_number": DESK})]

    with (
        twilio_rest_double() as rest,
        running(
            tmp_path,
            transfer,
            ["I want a refund for order twelve."],
            warm_agent(),
            twilio_api_base_url=rest.base_url,
        ) as service,
    ):
        body = await call_until_transferred(service)
        [update] = rest.requests
        heard = run_warm_transfer(update.form["Twiml"], service.sign, CALL_SID)
    [summary] = [s for s in service.tts.spoken if s.startswith("A caller is being transferred")]
    assert "I want a refund for order twelve." in summary
    assert seconds(heard.summary_audio) == pytest.approx(said_for(summary), rel=0.05)
    assert heard.caller_audio is None  # no message for the caller: it just rings
    kinds = [e["kind"] for e in body["velox"]["events"]]
    assert "warm_transfer_summary_from_transcript" in kinds


def test_the_whisper_is_refused_unsigned_and_unknown_briefings_are_not_found(
    tmp_path: Path,
) -> None:
    with running(tmp_path, lambda m: "Hi.", [], warm_agent()) as service:
        url = f"{service.base_url}/twilio/briefing?token=" + "a" * 43
        form = {"CallSid": "CA" + "f" * 32}
        assert httpx.post(url, data=form).status_code == 403
        signed = {"X-Twilio-Signature": service.sign(url, form)}
        assert httpx.post(url, data=form, headers=signed).status_code == 404
        missing = httpx.get(f"{service.base_url}/twilio/briefings/{'a' * 43}.wav")
        assert missing.status_code == 404
        traversal = httpx.get(f"{service.base_url}/twilio/briefings/..%2Fvelox.db.wav")
        assert traversal.status_code == 404
