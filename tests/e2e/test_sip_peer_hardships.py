"""SIP calls with real sipp through what trunks do to them: a caller who cancels while the agent
is readied, and 10 % of the messages lost both ways (retransmissions recover every call)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config.agent import ProviderChoice
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import agent_config, wait_saved
from tests.e2e.voice_service import (
    SIP_NUMBER,
    RunningService,
    VoiceService,
    running_service,
    voice_service,
)
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"
# 20 calls, 5 a second, 5 at once, each held 0.5 s; sipp loses 10 % of messages both ways.
LOSSY_LOAD = ["-m", "20", "-r", "5", "-l", "5", "-d", "500", "-lost", "10"]
READYING_S = 2.0  # how long the agent's speech-to-text takes to be readied, in the slow service


@pytest.fixture
def slow_service(tmp_path: Path) -> Iterator[RunningService]:
    """A service whose agent takes READYING_S to ready (its STT is slow to build): the call
    rings that long before its 200."""
    stt = ScriptedSpeechToText([])
    llm = ScriptedLanguageModel(lambda messages: "Sure.")
    tts = ToneTextToSpeech()

    def slow_stt() -> ScriptedSpeechToText:
        time.sleep(READYING_S)  # built off the event loop, like a real provider's client
        return stt

    config = agent_config()
    config.velox.providers = ProviderChoice(vad="energy", stt=stt.name, llm=llm.name, tts=tts.name)
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    registry.stt.register(stt.name, slow_stt)
    registry.llm.register(llm.name, lambda: llm)
    registry.tts.register(tts.name, lambda: tts)
    with running_service(tmp_path, config=config, registry=registry, sip=True) as running:
        yield running


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    stt = ScriptedSpeechToText([])
    llm = ScriptedLanguageModel(lambda messages: "Sure.")
    with voice_service(
        tmp_path, config=agent_config(), stt=stt, llm=llm, tts=ToneTextToSpeech(), sip=True
    ) as running:
        yield running


def lost_messages(screen: str) -> int:
    """The sum of the Lost column of sipp's last message table (the last figure of each row)."""
    table = screen[screen.rfind("Messages  Retrans") :]
    rows = [line.split() for line in table.splitlines() if "---->" in line or "<----" in line]
    return sum(int(row[-1]) for row in rows if row[-1].isdigit())


def test_sipp_cancels_while_it_rings(slow_service: RunningService, tmp_path: Path) -> None:
    result = run_sipp(
        slow_service.sip_port,
        ["-sf", str(SCENARIOS / "uac_cancel.xml"), "-s", SIP_NUMBER.lstrip("+"), "-m", "1"],
        tmp_path,
        timeout_s=20,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    (call,) = wait_saved(slow_service, 1)  # type: ignore[arg-type]
    assert call.status == "failed"
    assert call.termination_reason == "cancelled"


def test_sipp_calls_complete_with_a_tenth_of_the_messages_lost(
    service: VoiceService, tmp_path: Path
) -> None:
    result = run_sipp(
        service.sip_port,
        ["-sn", "uac", "-s", SIP_NUMBER.lstrip("+"), *LOSSY_LOAD],
        tmp_path,
        timeout_s=90,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    assert lost_messages(result.stdout) > 0, "sipp lost nothing: the test proved nothing"
    calls = wait_saved(service, 20, timeout=45)
    assert len(calls) == 20
    assert {call.status for call in calls} == {"done"}
