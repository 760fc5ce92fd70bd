"""The agent presses keys on a SIP call: RFC 4733 telephone-events the trunk receives in the
call's RTP stream, one digit each, after the agent's words."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.config.agent import AgentConfig
from app.config.system_tools import BuiltInTools
from app.providers.base import ChatMessage, TextDelta
from telephony.sip.rtp import DigitReceiver
from tests.audio_samples import silence, speech_like
from tests.e2e.test_sip_call import to_8k, wait_saved
from tests.e2e.voice_service import SIP_NUMBER, voice_service
from tests.fakes.providers import (
    Reply,
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ToneTextToSpeech,
    tool_call,
)
from tests.sip_caller import SipCaller

pytestmark = pytest.mark.e2e


def agent_config() -> AgentConfig:
    config = AgentConfig(name="Dialler")
    config.conversation_config.agent.first_message = "Hello."
    config.conversation_config.turn.turn_timeout = -1
    config.conversation_config.turn.silence_end_call_timeout = -1
    config.conversation_config.agent.prompt.built_in_tools = BuiltInTools.model_validate(
        {
            "play_keypad_touch_tone": {
                "type": "system",
                "name": "play_keypad_touch_tone",
                "params": {
                    "system_tool_type": "play_keypad_touch_tone",
                    "use_out_of_band_dtmf": True,
                    "suppress_turn_after_dtmf": True,
                },
            }
        }
    )
    return config


def press(messages: list[ChatMessage]) -> Reply:
    return [TextDelta("Pressing one."), tool_call("play_keypad_touch_tone", dtmf_tones="1#")]


async def test_the_agents_keys_reach_the_trunk_as_rfc_4733_events(tmp_path: Path) -> None:
    with voice_service(
        tmp_path,
        config=agent_config(),
        stt=ScriptedSpeechToText(["For sales press one, then hash."]),
        llm=ScriptedLanguageModel(press),
        tts=ToneTextToSpeech(),
        sip=True,
    ) as service:
        caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="keys-out@127.0.0.1")
        try:
            caller.invite()
            await caller.wait_for(200)
            caller.ack()
            await caller.pump(1.5)
            # A statement: the end of turn waits out its full silence, heard as frames.
            await caller.speak(to_8k(speech_like(1.0)) + to_8k(silence(2.0)))
            await caller.pump(4.0)
            caller.bye()
            await caller.wait_for(200)
        finally:
            caller.close()
        (call,) = wait_saved(service, 1)
        body = await asyncio.to_thread(service.conversation, call.id)
    receiver = DigitReceiver()
    assert [d for p in caller.events if (d := receiver.receive(p)) is not None] == ["1", "#"]
    [sent] = [e for e in body["velox"]["events"] if e["kind"] == "keypad_tones_sent"]
    assert sent["data"] == {"dtmf_tones": "1#", "mode": "rfc4733"}
    assert service.tts.spoken[-1] == "Pressing one."  # its words first, none after the keys
