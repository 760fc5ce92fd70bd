"""The SIP load run: sipp places 300 calls at 20 a second, at most 20 at once, each caller
talking over RTP (a looped PCMU stream) for a second, against the service with instant
providers. Every call completes, none fails, sipp exits 0, and every call's audio reached the
agent's recognizer."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from app.audio.levels import pcm16_dbfs
from telephony.audio import StreamingResampler, pcm16_to_mulaw
from tests.audio_samples import silence, speech_like
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import agent_config, wait_saved
from tests.e2e.voice_service import SIP_NUMBER, VoiceService, voice_service
from tests.fakes.providers import (
    SPEECH_LEVEL_DBFS,
    ScriptedLanguageModel,
    ScriptedSpeechToText,
    ScriptedSttStream,
    ToneTextToSpeech,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timing]

SCENARIO = Path(__file__).parent / "sipp" / "uac_talk.xml"
CALLS, RATE, AT_ONCE, HOLD_MS = 300, 20, 20, 1000


class HeardStream(ScriptedSttStream):
    """The scripted recognizer's stream, counting the frames of the caller's speech it hears."""

    def __init__(self, owner: ScriptedSpeechToText) -> None:
        super().__init__(owner)
        self.heard = 0

    async def push_audio(self, frame: bytes) -> None:
        if pcm16_dbfs(frame) >= SPEECH_LEVEL_DBFS:
            self.heard += 1
        await super().push_audio(frame)


class HearingSpeechToText(ScriptedSpeechToText):
    def __init__(self) -> None:
        super().__init__([])
        self.heard: list[HeardStream] = []

    async def open_stream(self, language: str) -> ScriptedSttStream:
        stream = HeardStream(self)
        self.heard.append(stream)
        return stream


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    with voice_service(
        tmp_path / "service",
        config=agent_config(),
        stt=HearingSpeechToText(),
        llm=ScriptedLanguageModel(lambda messages: "Sure.", first_token_delay_s=0.0),
        tts=ToneTextToSpeech(first_byte_delay_s=0.0),
        sip=True,
    ) as running:
        yield running


def test_300_talking_callers_at_20_a_second_all_complete(
    service: VoiceService, tmp_path: Path
) -> None:
    talk = StreamingResampler(16_000, 8_000).resample_chunk(speech_like(0.8) + silence(0.2))
    (tmp_path / "talk.ulaw").write_bytes(pcm16_to_mulaw(talk))
    started = time.monotonic()
    result = run_sipp(
        service.sip_port,
        [
            "-sf",
            str(SCENARIO),
            "-s",
            SIP_NUMBER.lstrip("+"),
            "-m",
            str(CALLS),
            "-r",
            str(RATE),
            "-l",
            str(AT_ONCE),
            "-d",
            str(HOLD_MS),
        ],
        tmp_path,
        timeout_s=90,
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + sipp_errors(tmp_path)
    successful = re.search(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", result.stdout)
    failed = re.search(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", result.stdout)
    assert successful is not None, result.stdout[-3000:]
    assert failed is not None, result.stdout[-3000:]
    assert (int(successful.group(1)), int(failed.group(1))) == (CALLS, 0)
    assert took < 60, f"300 calls took {took:.1f} s"
    peak = re.search(r"Peak was (\d+) calls", result.stdout)
    assert peak is not None, result.stdout[-3000:]
    assert int(peak.group(1)) >= AT_ONCE * 3 // 4, "the calls did not overlap as asked"

    calls = wait_saved(service, CALLS, timeout=30)
    assert len(calls) == CALLS
    assert {call.status for call in calls} == {"done"}
    assert {call.termination_reason for call in calls} == {"caller_hung_up"}
    stt = service.stt
    assert isinstance(stt, HearingSpeechToText)
    heard = sorted(stream.heard for stream in stt.heard)
    assert len(heard) == CALLS
    # A second of talk is 50 frames, 40 of them speech: each call's recognizer heard half of
    # its caller's speech at least (40 each on this machine, busy).
    assert heard[0] >= 20, heard[:20]
