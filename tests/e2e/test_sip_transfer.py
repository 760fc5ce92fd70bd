"""The agent's transfer on a SIP call is a REFER (RFC 3515), with real sipp as the trunk: 202,
NOTIFY `SIP/2.0 200 OK`, then our BYE; a transfer the trunk reports failed goes back to the agent
as a tool error, and the call goes on; a warm transfer goes blind (SIP has no whisper)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config.agent import TransferDestination
from app.config.system_tools import BuiltInTools
from app.db.models import Call
from app.providers.base import ChatMessage, TextDelta, ToolCall
from telephony.audio import pcm16_to_mulaw
from tests.audio_samples import silence, speech_like
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import agent_config, to_8k
from tests.e2e.voice_service import SIP_NUMBER, VoiceService, voice_service
from tests.fakes.providers import (
    Reply,
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ToneTextToSpeech,
    tool_call,
)

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"
PERSON = "+15557654321"
SORRY = "Sorry, nobody is free right now."


def transfer_then_apologise(messages: list[ChatMessage]) -> Reply:
    if any(message.role == "tool" for message in messages):  # the transfer was tried
        return SORRY
    return [TextDelta("Connecting you now. "), tool_call("transfer_call", phone_number=PERSON)]


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = agent_config()
    config.velox.transfer_destinations = [TransferDestination(phone_number=PERSON)]
    stt = ScriptedSpeechToText(["A person please.", "Hello?"])
    llm = ScriptedLanguageModel(transfer_then_apologise)
    with voice_service(
        tmp_path, config=config, stt=stt, llm=llm, tts=ToneTextToSpeech(), sip=True
    ) as running:
        yield running


def ask_for_a_person(service: VoiceService, scenario: str, work_dir: Path) -> str:
    question = to_8k(speech_like(1.0)) + to_8k(silence(1.0))
    (work_dir / "question.ulaw").write_bytes(pcm16_to_mulaw(question))
    result = run_sipp(
        service.sip_port,
        ["-sf", str(SCENARIOS / scenario), "-s", SIP_NUMBER.lstrip("+"), "-m", "1", "-trace_msg"],
        work_dir,
        timeout_s=30,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(work_dir)
    return "".join(p.read_text(errors="replace") for p in work_dir.glob("*_messages.log"))


def ended_call(service: VoiceService, timeout: float = 15.0) -> Call:
    deadline = time.monotonic() + timeout
    while True:
        with service.database.session() as session:
            call = session.scalar(select(Call).where(Call.channel == "sip"))
            if (call is not None and call.status in ("done", "failed")) or (
                time.monotonic() > deadline
            ):
                assert call is not None
                session.expunge(call)
                return call
        time.sleep(0.1)


def test_a_transfer_is_a_refer_then_a_bye(service: VoiceService, tmp_path: Path) -> None:
    messages = ask_for_a_person(service, "uac_transfer.xml", tmp_path)
    assert f"Refer-To: <sip:{PERSON}@127.0.0.1>" in messages
    assert "Referred-By: <sip:velox@127.0.0.1:" in messages
    call = ended_call(service)
    assert call.termination_reason == "transferred"
    events = service.conversation(call.id)["velox"]["events"]
    assert [e["data"]["phone_number"] for e in events if e["kind"] == "transferred"] == [PERSON]


def test_a_failed_transfer_is_told_to_the_agent_and_the_call_goes_on(
    service: VoiceService, tmp_path: Path
) -> None:
    ask_for_a_person(service, "uac_transfer_refused.xml", tmp_path)
    call = ended_call(service)
    assert call.termination_reason == "caller_hung_up"
    body = service.conversation(call.id)
    failed = [e for e in body["velox"]["events"] if e["kind"] == "transfer_failed"]
    assert len(failed) == 1
    assert "486 Busy Here" in failed[0]["data"]["error"]
    # The agent's next answer is written knowing the transfer failed (the tool's error).
    last_request = service.llm.requests[-1]
    (result,) = [message for message in last_request if message.role == "tool"]
    assert "transfer failed" in result.content
    lines = [(line["role"], line["message"]) for line in body["transcript"]]
    # Said at once, in the same answer that tried the transfer: the caller need not speak again.
    asked = lines.index(("agent", "Connecting you now."))
    assert lines[asked + 1] == ("agent", SORRY)


def test_a_warm_transfer_on_sip_goes_blind_as_a_refer_and_says_so(
    tmp_path: Path,
) -> None:
    config = agent_config()
    config.conversation_config.agent.prompt.built_in_tools = BuiltInTools.model_validate(
        {
            "transfer_to_number": {
                "type": "system",
                "name": "transfer_to_number",
                "params": {
                    "system_tool_type": "transfer_to_number",
                    "transfers": [{"phone_number": PERSON, "transfer_type": "conference"}],
                },
            }
        }
    )

    def warm(messages: list[ChatMessage]) -> Reply:
        summary = {"transfer_number": PERSON, "agent_message": "Ann wants a refund."}
        return [ToolCall("call_warm", "transfer_to_number", summary)]

    stt = ScriptedSpeechToText(["A person please."])
    llm = ScriptedLanguageModel(warm)
    with voice_service(
        tmp_path, config=config, stt=stt, llm=llm, tts=ToneTextToSpeech(), sip=True
    ) as running:
        messages = ask_for_a_person(running, "uac_transfer.xml", tmp_path)
        call = ended_call(running)
        events = running.conversation(call.id)["velox"]["events"]
    assert f"Refer-To: <sip:{PERSON}@127.0.0.1>" in messages
    assert call.termination_reason == "transferred"
    kinds = [e["kind"] for e in events]
    assert "warm_transfer_unsupported" in kinds
    assert "transferred" in kinds
