"""SIP trunk calls through the real service: raw UDP for what sipp cannot script, sipp for the
rest. Every call is saved as a conversation with channel "sip"."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config.agent import AgentConfig
from app.db.models import Call
from app.providers.base import ChatMessage
from telephony.audio import StreamingResampler, pcm16_to_mulaw
from telephony.sip.message import SipResponse
from tests.audio_samples import silence, speech_like
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.voice_service import SIP_NUMBER, VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.sip_caller import SipCaller

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"

GREETING = "Hi, thanks for calling Acme."
ANSWER = "We open at nine in the morning on weekdays."


def opening_hours(messages: list[ChatMessage]) -> str:
    return ANSWER if "hours" in messages[-1].content.lower() else "Sure."


def agent_config() -> AgentConfig:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    config.conversation_config.agent.prompt.prompt = (
        "You answer for Acme. Customer {{customer_id}}."
    )
    # Calls here end by SIP (BYE, no ACK), never by the agent tiring of silence.
    config.conversation_config.turn.turn_timeout = -1
    config.conversation_config.turn.silence_end_call_timeout = -1
    return config


def answering_service(tmp_path: Path) -> AbstractContextManager[VoiceService]:
    """The service with a SIP port and an agent that answers "What are your opening hours?"."""
    stt = ScriptedSpeechToText(["What are your opening hours?"])
    llm = ScriptedLanguageModel(opening_hours)
    return voice_service(
        tmp_path, config=agent_config(), stt=stt, llm=llm, tts=ToneTextToSpeech(), sip=True
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    with answering_service(tmp_path) as running:
        yield running


def sip_calls(service: VoiceService) -> list[Call]:
    with service.database.session() as session:
        calls = session.scalars(select(Call).where(Call.channel == "sip"))
        return [call for call in calls]


def wait_saved(service: VoiceService, count: int, timeout: float = 15.0) -> list[Call]:
    deadline = time.monotonic() + timeout
    while True:
        calls = [c for c in sip_calls(service) if c.status in ("done", "failed")]
        if len(calls) >= count or time.monotonic() > deadline:
            return calls
        time.sleep(0.1)


def to_8k(pcm16_16k: bytes) -> bytes:
    return StreamingResampler(16_000, 8_000).resample_chunk(pcm16_16k)


async def test_the_same_invite_twice_is_one_call(service: VoiceService) -> None:
    caller = SipCaller(service.sip_port, SIP_NUMBER)
    try:
        caller.invite()
        await caller.pump(0.05)
        caller.invite()  # a retransmission: same branch, same Call-ID
        await caller.wait_for(200)
        caller.ack()
        await caller.pump(0.5)
        caller.bye()
        await caller.pump(0.5)
    finally:
        caller.close()
    # The copy is answered with the call's latest answer (100 or 180, as it raced the lookup of
    # the number), never as a call of its own: one dialog, one To tag.
    tags = {
        r.message.to_tag
        for r in caller.received
        if isinstance(r.message, SipResponse) and r.message.status > 100
    }
    assert len(tags) == 1
    (call,) = wait_saved(service, 1)
    assert call.status == "done"
    assert call.to_number == SIP_NUMBER


async def test_no_ack_gets_the_200_re_sent_at_t1_doubling_then_a_bye(
    service: VoiceService,
) -> None:
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="no-ack@127.0.0.1")
    try:
        caller.invite()
        first = await caller.wait_for(200)
        # The caller's RTP flows (so the media timeout does not end the call first).
        await caller.speak(bytes(2 * 8000 * 34))
        oks = [
            r.at
            for r in caller.received
            if isinstance(r.message, SipResponse) and r.message.status == 200
        ]
        gaps = [round(b - a, 1) for a, b in itertools.pairwise(oks)]
        assert gaps[:3] == [0.5, 1.0, 2.0]
        assert all(gap <= 4.1 for gap in gaps)
        byes = caller.requests("BYE")
        assert len({bye.message.branch for bye in byes}) == 1  # one BYE, re-sent: unanswered
        assert 31 < byes[0].at - first.at < 33.5
    finally:
        caller.close()
    (call,) = wait_saved(service, 1)
    assert call.termination_reason == "no_ack"


async def test_a_number_with_no_agent_is_404(service: VoiceService) -> None:
    caller = SipCaller(service.sip_port, "+15550000000", call_id="nobody@127.0.0.1")
    try:
        caller.invite()
        response = (await caller.wait_for(404)).message
        assert isinstance(response, SipResponse)
        assert response.to_tag
    finally:
        caller.close()
    assert sip_calls(service) == []


async def test_the_caller_is_answered_over_rtp_and_the_call_is_saved(
    service: VoiceService,
) -> None:
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="talk@127.0.0.1")
    try:
        caller.invite()
        await caller.wait_for(200)
        caller.ack()
        await caller.pump(2.5)  # the greeting plays
        greeting_frames = len(caller.audio)
        await caller.speak(to_8k(speech_like(1.0)) + to_8k(silence(0.8)))
        asked = time.monotonic()
        await caller.pump(3.0)
        answer_frames = [at for at, _ in caller.audio if at > asked]
        caller.bye()
        await caller.wait_for(200)
    finally:
        caller.close()
    assert greeting_frames > 20, "the greeting is heard as RTP"
    assert len(answer_frames) > 20, "the answer is heard as RTP"
    (call,) = wait_saved(service, 1)
    body = await asyncio.to_thread(service.conversation, call.id)
    assert body["velox"]["channel"] == "sip"
    assert body["metadata"]["phone_call"]["type"] == "sip_trunking"
    said = [(line["role"], line["message"]) for line in body["transcript"]]
    assert ("user", "What are your opening hours?") in said
    assert ("agent", ANSWER) in said
    # The trunk's X-Customer-Id header reached the prompt as a dynamic variable.
    system = service.llm.requests[0][0]
    assert "Customer 42." in system.content


def test_sipp_places_20_calls_that_all_complete(service: VoiceService, tmp_path: Path) -> None:
    result = run_sipp(
        service.sip_port,
        [
            "-sn",
            "uac",
            "-s",
            SIP_NUMBER.lstrip("+"),
            "-m",
            "20",
            "-r",
            "10",
            "-l",
            "10",
            "-d",
            "500",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    calls = wait_saved(service, 20)
    assert len(calls) == 20
    assert {call.status for call in calls} == {"done"}
    assert {call.termination_reason for call in calls} == {"caller_hung_up"}


def test_sipp_asks_over_rtp_and_the_answer_is_saved(service: VoiceService, tmp_path: Path) -> None:
    question = to_8k(speech_like(1.0)) + to_8k(silence(1.0))
    (tmp_path / "question.ulaw").write_bytes(pcm16_to_mulaw(question))
    result = run_sipp(
        service.sip_port,
        ["-sf", str(SCENARIOS / "uac_question.xml"), "-s", SIP_NUMBER.lstrip("+"), "-m", "1"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    (call,) = wait_saved(service, 1)
    body = service.conversation(call.id)
    assert body["velox"]["channel"] == "sip"
    said = [(line["role"], line["message"]) for line in body["transcript"]]
    assert ("user", "What are your opening hours?") in said
    assert ("agent", ANSWER) in said
    assert "Customer 7." in service.llm.requests[0][0].content, body.get("velox", {}).get("events")


async def test_a_call_past_the_nodes_capacity_is_503_with_retry_after(
    service: VoiceService,
) -> None:
    service.settings.sip_max_calls = 1  # the runtime reads the same settings object
    first = SipCaller(service.sip_port, SIP_NUMBER, call_id="first@127.0.0.1")
    second = SipCaller(service.sip_port, SIP_NUMBER, call_id="second@127.0.0.1")
    try:
        first.invite()
        await first.wait_for(200)
        first.ack()
        second.invite()
        refused = (await second.wait_for(503)).message
        assert refused.header("Retry-After") == "5"
        first.bye()
        await first.wait_for(200)
    finally:
        first.close()
        second.close()
    (call,) = wait_saved(service, 1)
    assert call.provider_call_sid == "first@127.0.0.1"


async def test_an_offer_with_no_common_codec_is_488(service: VoiceService) -> None:
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="g722@127.0.0.1", payload_types="9")
    try:
        caller.invite()
        refused = (await caller.wait_for(488)).message
        assert isinstance(refused, SipResponse)
        assert refused.reason.startswith("no common codec")
    finally:
        caller.close()
    assert sip_calls(service) == []


async def test_a_key_pressed_over_rtp_is_one_dtmf_event(service: VoiceService) -> None:
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="keys@127.0.0.1")
    try:
        caller.invite()
        await caller.wait_for(200)
        caller.ack()
        await caller.pump(0.3)
        await caller.press("7")  # its end packet arrives three times
        await caller.pump(0.3)
        caller.bye()
        await caller.wait_for(200)
    finally:
        caller.close()
    (call,) = wait_saved(service, 1)
    events = service.conversation(call.id)["velox"]["events"]
    assert [e["data"].get("digit") for e in events if e["kind"] == "dtmf"] == ["7"]
