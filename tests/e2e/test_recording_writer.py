"""Recorded phone calls and the recording writer process behind them: killed mid-call, the call
is saved unharmed with its recording marked failed and the next call is recorded again; the
service's shutdown leaves no writer process behind."""

from __future__ import annotations

import asyncio
import io
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import soundfile

from app.config.agent import AgentConfig
from tests.audio_samples import speech_like
from tests.e2e.test_call_recording import DISCLOSURE, http, loud_windows, runs
from tests.e2e.test_twilio_call import GREETING, opening_hours
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

WRITER_MODULE = b"app.calls.recording_writer"


@contextmanager
def recorded_service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    config.platform_settings.privacy.record_voice = True
    config.velox.recording_disclosure = DISCLOSURE
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText(["What are your opening hours?"] * 2),
        llm=ScriptedLanguageModel(opening_hours),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    with recorded_service(tmp_path) as running:
        yield running


def writer_processes() -> list[int]:
    """This test process's recording writer processes (the service runs in a thread here)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and WRITER_MODULE in command:
            found.append(int(entry.name))
    return found


def process_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def failed_recordings(service: VoiceService) -> float:
    metrics = httpx.get(f"{service.base_url}/metrics").text
    for line in metrics.splitlines():
        if line.startswith('velox_recordings_failed_total{reason="writer_lost"}'):
            return float(line.split()[-1])
    return 0.0


async def place_call(service: VoiceService, *, kill_the_writer: bool) -> tuple[str, int | None]:
    """A call with a question; the writer process killed while the caller speaks, if asked.
    The conversation's id, and the id of the writer that ran during the call."""
    stream_url, parameters = service.dial()
    writer = None
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=3)
        greeting = asyncio.create_task(caller.silence(3.0))
        await caller.wait_until_quiet(silence_s=0.3, timeout=6)
        await greeting
        (writer,) = writer_processes()
        if kill_the_writer:
            os.kill(writer, signal.SIGKILL)
        await caller.play(speech_like(1.0))  # the question
        await caller.silence(2.0)  # the answer plays
    conversation_id: str = parameters["conversation_id"]
    return conversation_id, writer


async def test_a_writer_killed_mid_call_fails_that_recording_only(service: VoiceService) -> None:
    failed_before = failed_recordings(service)

    killed_call, killed = await place_call(service, kill_the_writer=True)
    body = service.ended_conversation(killed_call)
    assert body["status"] == "done"  # the call went on and was saved whole
    assert [turn["role"] for turn in body["transcript"]][:3] == ["agent", "user", "agent"]
    assert (body["has_audio"], body["has_user_audio"], body["has_response_audio"]) == (
        False,
        False,
        False,
    )
    assert "recording_failed" in [event["kind"] for event in body["velox"]["events"]]
    assert failed_recordings(service) == failed_before + 1
    assert not list(service.settings.resolved_recordings_dir().rglob("*.part"))

    next_call, restarted = await place_call(service, kill_the_writer=False)
    assert restarted != killed
    body = service.ended_conversation(next_call)
    assert body["has_audio"] is True
    audio = http(
        "GET",
        f"{service.base_url}/v1/convai/conversations/{next_call}/audio",
        headers=service.headers,
    )
    samples, rate = soundfile.read(io.BytesIO(audio.content), dtype="float32")
    left, right = runs(loud_windows(samples[:, 0], rate)), runs(loud_windows(samples[:, 1], rate))
    assert [end - start for start, end in left] == [pytest.approx(1.0, abs=0.1)]
    assert right[0][1] < left[0][0] < left[0][1] < right[-1][0]  # greeting, question, answer


async def test_the_service_stopping_leaves_no_writer_process(tmp_path: Path) -> None:
    with recorded_service(tmp_path) as running:
        call, writer = await place_call(running, kill_the_writer=False)
        assert running.ended_conversation(call)["has_audio"] is True
        assert writer in writer_processes()
    assert writer is not None
    assert not process_exists(writer)  # stopped and reaped when the service stopped
    assert writer_processes() == []
