"""Hold and unhold through the real service: sipp puts the agent on hold and back with
re-INVITE and UPDATE, and a raw-UDP caller checks what sipp cannot: no RTP while held, the
held silence not taken for a dead call, an offer without the call's codec refused 488."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from telephony.sip.message import SipResponse
from tests.audio_samples import silence, speech_like
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import (
    ANSWER,
    GREETING,
    agent_config,
    opening_hours,
    to_8k,
    wait_saved,
)
from tests.e2e.voice_service import SIP_NUMBER, VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.sip_caller import SipCaller

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = agent_config()
    config.conversation_config.agent.first_message = " ".join([GREETING] * 5)  # about 6 s
    stt = ScriptedSpeechToText(["What are your opening hours?"])
    llm = ScriptedLanguageModel(opening_hours)
    with voice_service(
        tmp_path, config=config, stt=stt, llm=llm, tts=ToneTextToSpeech(), sip=True
    ) as running:
        yield running


def test_sipp_holds_and_unholds_with_re_invite_and_update(
    service: VoiceService, tmp_path: Path
) -> None:
    result = run_sipp(
        service.sip_port,
        ["-sf", str(SCENARIOS / "uac_hold.xml"), "-s", SIP_NUMBER.lstrip("+"), "-m", "1"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    (call,) = wait_saved(service, 1)
    assert call.status == "done"
    assert call.termination_reason == "caller_hung_up"


def offer_of(caller: SipCaller, branch: str, cseq: int, body_change: tuple[str, str]) -> bytes:
    """A re-INVITE of `caller`'s call whose offer is changed by `body_change`."""
    data = caller.request("INVITE", branch, cseq=cseq, to_tag=caller.to_tag).decode()
    head, _, body = data.partition("\r\n\r\n")
    body = body.replace(*body_change)
    head = head.rsplit("Content-Length:", 1)[0] + f"Content-Length: {len(body)}"
    return f"{head}\r\n\r\n{body}".encode()


def acknowledge(caller: SipCaller, branch: str, cseq: int) -> None:
    data = caller.request("ACK", branch, cseq=cseq, to_tag=caller.to_tag).decode()
    caller.send(data.replace(f"CSeq: {cseq} ACK", f"CSeq: {cseq} ACK").encode())


async def answer_to(caller: SipCaller, status: int, cseq: int) -> SipResponse:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for item in caller.received:
            message = item.message
            if (
                isinstance(message, SipResponse)
                and message.cseq == (cseq, "INVITE")
                and message.status == status
            ):
                return message
        await caller.pump(0.02)
    raise AssertionError(f"no {status} to CSeq {cseq}; got {caller.statuses()}")


async def test_held_the_agent_sends_no_rtp_and_the_silence_is_no_dead_call(
    service: VoiceService,
) -> None:
    service.settings.sip_media_timeout_s = 2.0  # the runtime reads the same settings object
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="hold@127.0.0.1")
    try:
        caller.invite()
        await caller.wait_for(200)
        caller.ack()
        await caller.pump(0.8)
        assert len(caller.audio) > 10, "the greeting plays"
        caller.send(offer_of(caller, "z9hG4bK-hold", 2, ("a=ptime:20", "a=ptime:20\r\na=sendonly")))
        held = await answer_to(caller, 200, 2)
        assert b"a=recvonly" in held.body
        acknowledge(caller, "z9hG4bK-hold-ack", 2)
        held_at = time.monotonic()
        await caller.pump(3.0)  # past the 2 s media timeout, the caller silent too
        assert [at for at, _ in caller.audio if at > held_at + 0.1] == [], "RTP while held"
        assert caller.requests("BYE") == [], "the held call was taken for a dead one"
        # An offer without the call's codec (G.722 only): 488, the call goes on held.
        g722 = offer_of(caller, "z9hG4bK-g722", 3, ("RTP/AVP 0 101", "RTP/AVP 9"))
        caller.send(g722)
        refused = await answer_to(caller, 488, 3)
        assert refused.reason.startswith("no common codec")
        acknowledge(caller, "z9hG4bK-g722", 3)
        caller.send(offer_of(caller, "z9hG4bK-unhold", 4, ("a=ptime:20", "a=ptime:20")))
        resumed = await answer_to(caller, 200, 4)
        assert b"a=sendrecv" in resumed.body
        acknowledge(caller, "z9hG4bK-unhold-ack", 4)
        resumed_at = time.monotonic()
        # The question, then the caller's line silent but alive (RTP) while the agent answers.
        await caller.speak(to_8k(speech_like(1.0)) + to_8k(silence(3.8)))
        heard = [at for at, _ in caller.audio if at > resumed_at]
        caller.bye()
        await caller.pump(0.5)
    finally:
        caller.close()
    assert len(heard) > 20, "the agent is heard again off hold"
    (call,) = await asyncio.to_thread(wait_saved, service, 1)
    assert call.termination_reason == "caller_hung_up"
    body = await asyncio.to_thread(service.conversation, call.id)
    said = [(line["role"], line["message"]) for line in body["transcript"]]
    assert ("agent", ANSWER) in said
    kinds = [event["kind"] for event in body["velox"]["events"]]
    assert [kind for kind in kinds if kind in ("hold", "unhold")] == ["hold", "unhold"]


@pytest.fixture
def impatient_service(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An agent that re-prompts after 1 s of silence and hangs up after 2.5 s."""
    config = agent_config()
    config.conversation_config.turn.turn_timeout = 1.0
    config.conversation_config.turn.silence_end_call_timeout = 2.5
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(opening_hours),
        tts=ToneTextToSpeech(),
        sip=True,
    ) as running:
        yield running


async def test_a_held_caller_is_not_re_prompted_nor_hung_up_on_for_silence(
    impatient_service: VoiceService,
) -> None:
    service = impatient_service
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="hold-silence@127.0.0.1")
    try:
        caller.invite()
        await caller.wait_for(200)
        caller.ack()
        while not caller.audio:  # the greeting starts; the caller holds the call at once
            await caller.pump(0.02)
        caller.send(offer_of(caller, "z9hG4bK-hold", 2, ("a=ptime:20", "a=ptime:20\r\na=sendonly")))
        await answer_to(caller, 200, 2)
        acknowledge(caller, "z9hG4bK-hold-ack", 2)
        # Held for 4 s, past both silence windows (the greeting's 1.5 s included).
        await caller.pump(4.0)
        assert caller.requests("BYE") == [], "hung up on for silence while held"
        caller.send(offer_of(caller, "z9hG4bK-unhold", 3, ("a=ptime:20", "a=ptime:20")))
        await answer_to(caller, 200, 3)
        acknowledge(caller, "z9hG4bK-unhold-ack", 3)
        unheld_at = time.monotonic()
        # Off hold and silent: the rules start again from the unhold.
        while not caller.requests("BYE") and time.monotonic() < unheld_at + 12:
            await caller.pump(0.05)
        byes = caller.requests("BYE")
    finally:
        caller.close()
    assert byes, "off hold, the silent caller is hung up on as before"
    assert byes[0].at - unheld_at >= 2.4
    (call,) = await asyncio.to_thread(wait_saved, service, 1)
    assert call.termination_reason == "silence_timeout"
    body = await asyncio.to_thread(service.conversation, call.id)
    kinds = [e["kind"] for e in body["velox"]["events"]]
    watched = [k for k in kinds if k in ("hold", "unhold", "silence_reprompt")]
    assert watched[:2] == ["hold", "unhold"], watched
    assert "silence_reprompt" in watched[2:]
