"""A recorded call with real speech on the offline stack, heard back from the served MP3: the
caller's words on the left channel, the agent's on the right, and the agent's side cut where
the caller cut in."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.audio.formats import ENGINE_SAMPLE_RATE
from app.providers.registry import ProviderRegistry
from app.providers.whisper.stt import WhisperSpeechToText
from telephony.audio import StreamingResampler
from tests.e2e.test_call_recording import http, loud_windows, runs
from tests.e2e.voice_service import RunningService, running_service
from tests.models.dental_agent import dental_agent
from tests.models.spoken import greeted_call, piper_voice
from tests.models.test_real_speech_call import words

pytestmark = pytest.mark.models

QUESTION = "What are your opening hours on Saturday?"
INTERRUPTION = "Sorry, can I book a cleaning for Tuesday morning?"


@pytest.fixture
def service(tmp_path: Path, registry: ProviderRegistry) -> Iterator[RunningService]:
    config = dental_agent()
    config.platform_settings.privacy.record_voice = True
    with running_service(tmp_path, config=config, registry=registry) as running:
        yield running


async def transcribe(stt: WhisperSpeechToText, channel: np.ndarray, rate: int) -> list[str]:
    pcm = (np.clip(channel, -1, 1) * 32767).astype("<i2").tobytes()
    up = StreamingResampler(rate, ENGINE_SAMPLE_RATE)
    transcript = await stt.transcribe(up.resample_chunk(pcm) + up.flush(), "en")
    return words(transcript.text)


async def test_the_served_recording_says_who_said_what_and_where_the_caller_cut_in(
    service: RunningService, registry: ProviderRegistry
) -> None:
    question = await piper_voice(registry, QUESTION)
    interruption = await piper_voice(registry, INTERRUPTION)
    async with greeted_call(service) as (caller, parameters):
        await caller.silence(3.5)  # the greeting plays
        heard_before = caller.audio_frames
        await caller.play(question)
        listening = asyncio.create_task(caller.silence(15.0))
        await caller.wait_for(lambda: caller.audio_frames > heard_before + 10, timeout=15)
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await caller.play(interruption)  # over the answer
        await caller.silence(5.0)
    conversation_id = parameters["conversation_id"]
    body = service.ended_conversation(conversation_id, timeout=20)
    response = http(
        "GET",
        f"{service.base_url}/v1/convai/conversations/{conversation_id}/audio",
        headers=service.headers,
    )
    assert response.status_code == 200
    audio, rate = soundfile.read(io.BytesIO(response.content), dtype="float32")
    left, right = audio[:, 0], audio[:, 1]
    spoke = runs(loud_windows(left, rate))
    print("caller:", spoke, "agent:", runs(loud_windows(right, rate)), "clears:", caller.clears)
    for event in body["velox"]["events"]:  # shown by pytest when the test fails
        print(event["at_ms"], event["kind"], event["data"])
    stt = registry.stt.get("whisper")
    assert isinstance(stt, WhisperSpeechToText)

    caller_words = await transcribe(stt, left, rate)
    assert {"saturday", "opening", "hours"} & set(caller_words), caller_words
    assert not {"acme", "dental"} & set(caller_words), caller_words  # the agent is not there
    first_question_end = spoke[0][1]
    greeting = await transcribe(stt, right[: int(first_question_end * rate)], rate)
    assert {"acme", "dental", "help", "hello"} & set(greeting), greeting

    if caller.clears:  # the agent yielded: its side stops soon after the caller cut in
        # When the caller cut in, on the recording's clock (the call's media time), as the
        # engine heard it when it yielded (before a barge-in, or before it withdrew an answer
        # begun too early). Read from the left channel instead, the question's own last word
        # after a short pause ("... on | Saturday?") was once taken for the cut-in, and the
        # answer that followed it failed the quiet below.
        yielded = next(e for e in body["velox"]["events"] if e["kind"] == "agent_yielded")
        cut_in = (yielded["at_ms"] - yielded["data"]["speech_ms"]) / 1000
        after = right[int((cut_in + 0.8) * rate) : int((cut_in + 1.3) * rate)]
        assert not loud_windows(after, rate).any(), runs(loud_windows(right, rate))
        # Its answer is saved as cut short; or, when the caller cut in within a breath of their
        # question (a fast answer), the answer was withdrawn and their words taken as the rest
        # of their turn (as in test_real_speech_call: both are the product's).
        agent_turns = [t for t in body["transcript"] if t["role"] == "agent"]
        withdrawn = [e for e in body["velox"]["events"] if e["kind"] == "premature_end_of_turn"]
        assert any(t["interrupted"] for t in agent_turns) or withdrawn
