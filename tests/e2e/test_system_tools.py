"""ElevenLabs' system tools (`prompt.built_in_tools`) in Twilio-protocol calls: the scripted
model calls each tool and the call does what the tool says, on the wire and in the record."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from app.config.agent import AgentConfig
from app.config.system_tools import BuiltInTools
from app.providers.base import ChatMessage, TextDelta
from telephony.audio import mulaw_to_pcm16
from tests.audio_samples import speech_like
from tests.e2e.test_call_rules import caller_for, listen_to_greeting, running, wait_for_hang_up
from tests.e2e.twilio_rest_double import twilio_rest_double
from tests.fakes.providers import Reply, tool_call
from tests.keypad_listener import heard_keys
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

APOLOGY_MARK = "Sorry"
VOICEMAIL = "This is Desk calling about your order. Please call us back. Goodbye."


def agent_with(**built_in: dict[str, Any]) -> AgentConfig:
    agent = AgentConfig(name="Desk")
    agent.conversation_config.agent.first_message = "Hello."
    agent.conversation_config.agent.prompt.built_in_tools = BuiltInTools.model_validate(
        {
            name: {"type": "system", "name": name, "params": {"system_tool_type": name, **params}}
            for name, params in built_in.items()
        }
    )
    return agent


def tool_turn(body: dict[str, Any], name: str) -> dict[str, Any]:
    [turn] = [t for t in body["transcript"] if any(c["tool_name"] == name for c in t["tool_calls"])]
    return turn


async def hear_out(caller: TwilioCaller, said: Callable[[], bool], within_s: float = 8) -> None:
    """Stream silence, as Twilio does, until the agent has said it and it has played. `said`
    holds once the words reach the voice, before their audio does: quiet waited for from
    then alone was already there when the audio came late (a loaded machine), and the caller
    hung up on the answer's first frame."""
    line = asyncio.create_task(caller.silence(within_s))
    try:
        await caller.wait_for(said, within_s, "the agent's answer")
        frames = len(caller.media)
        await caller.wait_for(lambda: len(caller.media) > frames, within_s, "the answer's audio")
        await caller.wait_until_quiet(silence_s=0.5, timeout=within_s)
    finally:
        line.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await line


def after_tool(messages: list[ChatMessage]) -> bool:
    return messages[-1].role == "tool"


async def test_transfer_to_number_dials_the_listed_number_through_twilio(tmp_path: Path) -> None:
    agent = agent_with(
        transfer_to_number={
            "transfers": [
                {
                    "transfer_destination": {"type": "phone", "phone_number": "+15557654321"},
                    "condition": "the caller asks for billing",
                }
            ]
        }
    )

    def transfer(messages: list[ChatMessage]) -> Reply:
        return [
            TextDelta("Connecting you to billing."),
            tool_call("transfer_to_number", transfer_number="+15557654321", reason="billing"),
        ]

    with (
        twilio_rest_double() as rest,
        running(
            tmp_path, transfer, ["Billing please."], agent, twilio_api_base_url=rest.base_url
        ) as service,
    ):
        caller, conversation_id = caller_for(service, call_sid="CA" + "8" * 32)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await wait_for_hang_up(caller, within_s=5)
        body = service.ended_conversation(conversation_id)
    assert body["metadata"]["termination_reason"] == "transferred"
    [update] = rest.requests
    assert "<Dial>+15557654321</Dial>" in update.form["Twiml"]
    [result] = tool_turn(body, "transfer_to_number")["tool_results"]
    assert result["type"] == "system"
    assert json.loads(result["result_value"]) == {
        "status": "success",
        "transfer_number": "+15557654321",
        "reason": "billing",
    }


async def test_transfer_to_a_number_not_listed_is_refused_and_the_model_told(
    tmp_path: Path,
) -> None:
    agent = agent_with(transfer_to_number={"transfers": [{"phone_number": "+15557654321"}]})

    def transfer(messages: list[ChatMessage]) -> Reply:
        if after_tool(messages):
            return f"{APOLOGY_MARK}, I cannot transfer you there."
        return [tool_call("transfer_to_number", transfer_number="+15550000000")]

    with (
        twilio_rest_double() as rest,
        running(
            tmp_path, transfer, ["Call my friend."], agent, twilio_api_base_url=rest.base_url
        ) as service,
    ):
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await hear_out(caller, lambda: APOLOGY_MARK in " ".join(service.tts.spoken))
        body = service.ended_conversation(conversation_id)
    assert rest.requests == []
    [result] = tool_turn(body, "transfer_to_number")["tool_results"]
    assert result["is_error"] is True
    assert "not an allowed transfer destination" in result["result_value"]
    assert body["transcript"][-1]["message"] == f"{APOLOGY_MARK}, I cannot transfer you there."
    assert body["velox"]["metrics"]["counters"]["transfers_refused"] == 1


async def test_skip_turn_keeps_the_agent_silent_and_is_recorded(tmp_path: Path) -> None:
    agent = agent_with(skip_turn={})

    def wait(messages: list[ChatMessage]) -> Reply:
        return [tool_call("skip_turn", reason="the caller asked for a moment")]

    with running(tmp_path, wait, ["Give me a second."], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            frames_after_greeting = caller.audio_frames
            await caller.play(speech_like(0.6))
            await caller.silence(2.5)
            assert caller.audio_frames == frames_after_greeting
        body = service.ended_conversation(conversation_id)
    assert set(service.tts.spoken) == {"Hello."}  # the greeting (warmed, then said), only
    assert len(service.llm.requests) == 1  # no second round after the skipped turn
    turn = tool_turn(body, "skip_turn")
    assert turn["message"] in ("", None)
    [result] = turn["tool_results"]
    assert json.loads(result["result_value"])["status"] == "success"
    assert any(e["kind"] == "turn_skipped" for e in body["velox"]["events"])


async def test_voicemail_detection_leaves_the_message_and_hangs_up(tmp_path: Path) -> None:
    agent = agent_with(voicemail_detection={"voicemail_message": VOICEMAIL})

    def machine(messages: list[ChatMessage]) -> Reply:
        return [tool_call("voicemail_detection", reason="a recorded greeting")]

    greeting = ["You have reached Sam. Please leave a message after the tone."]
    with running(tmp_path, machine, greeting, agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.8))
            await wait_for_hang_up(caller, within_s=8)
            assert caller.playback_finished
        body = service.ended_conversation(conversation_id)
    assert body["metadata"]["termination_reason"] == "voicemail_left"
    assert " ".join(service.tts.spoken).endswith(VOICEMAIL)  # said sentence by sentence
    assert body["transcript"][-1]["message"] == VOICEMAIL
    kinds = [e["kind"] for e in body["velox"]["events"]]
    assert "voicemail_detected" in kinds
    assert "voicemail_left" in kinds


async def test_voicemail_detection_without_a_message_hangs_up_at_once(tmp_path: Path) -> None:
    agent = agent_with(voicemail_detection={})

    def machine(messages: list[ChatMessage]) -> Reply:
        return [tool_call("voicemail_detection")]

    with running(tmp_path, machine, ["Leave a message after the tone."], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await wait_for_hang_up(caller, within_s=5)
        body = service.ended_conversation(conversation_id)
    assert body["metadata"]["termination_reason"] == "voicemail_detected"
    assert set(service.tts.spoken) == {"Hello."}  # the greeting (warmed, then said), only


async def test_keypad_tones_play_in_band_on_a_twilio_call_and_the_far_end_hears_them(
    tmp_path: Path,
) -> None:
    agent = agent_with(play_keypad_touch_tone={"suppress_turn_after_dtmf": True})

    def press(messages: list[ChatMessage]) -> Reply:
        return [tool_call("play_keypad_touch_tone", dtmf_tones="12w#", reason="the menu")]

    with running(tmp_path, press, ["Press one, then two, then hash."], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            greeting_bytes = len(caller.received_audio())
            await caller.play(speech_like(0.6))
            await hear_out(caller, lambda: len(caller.received_audio()) > greeting_bytes)
            tones = caller.received_audio()[greeting_bytes:]
        body = service.ended_conversation(conversation_id)
    assert heard_keys(mulaw_to_pcm16(tones), 8000) == "12#"
    assert len(service.llm.requests) == 1  # suppress_turn_after_dtmf: no words after the tones
    [result] = tool_turn(body, "play_keypad_touch_tone")["tool_results"]
    assert json.loads(result["result_value"]) == {"status": "success", "dtmf_tones": "12w#"}
    [sent] = [e for e in body["velox"]["events"] if e["kind"] == "keypad_tones_sent"]
    assert sent["data"]["mode"] == "in_band"


async def test_out_of_band_keypad_tones_on_a_twilio_call_are_a_tool_error_the_agent_speaks_about(
    tmp_path: Path,
) -> None:
    agent = agent_with(play_keypad_touch_tone={"use_out_of_band_dtmf": True})
    apology = f"{APOLOGY_MARK}, I cannot press keys on this line."

    def press(messages: list[ChatMessage]) -> Reply:
        if after_tool(messages):
            return apology
        return [tool_call("play_keypad_touch_tone", dtmf_tones="1")]

    with running(tmp_path, press, ["Press one for sales."], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await hear_out(caller, lambda: APOLOGY_MARK in " ".join(service.tts.spoken))
        body = service.ended_conversation(conversation_id)
    [result] = tool_turn(body, "play_keypad_touch_tone")["tool_results"]
    assert result["is_error"] is True
    assert "cannot send out-of-band keypad tones" in result["result_value"]
    assert body["transcript"][-1]["message"] == apology
    assert body["velox"]["metrics"]["counters"]["keypad_tones_unsupported"] == 1


async def test_keys_a_keypad_has_not_are_refused_and_the_model_told(tmp_path: Path) -> None:
    agent = agent_with(play_keypad_touch_tone={})

    def press(messages: list[ChatMessage]) -> Reply:
        if after_tool(messages):
            return f"{APOLOGY_MARK}, that is not a key."
        return [tool_call("play_keypad_touch_tone", dtmf_tones="1x")]

    with running(tmp_path, press, ["Press x."], agent) as service:
        caller, conversation_id = caller_for(service)
        async with caller:
            await listen_to_greeting(caller)
            await caller.play(speech_like(0.6))
            await hear_out(caller, lambda: APOLOGY_MARK in " ".join(service.tts.spoken))
        body = service.ended_conversation(conversation_id)
    [result] = tool_turn(body, "play_keypad_touch_tone")["tool_results"]
    assert result["is_error"] is True
    assert body["velox"]["metrics"]["counters"]["keypad_tones_refused"] == 1
