"""A recorded phone call: the served MP3 has the caller on the left and, on the right, what the
caller heard, cut where the barge-in cut it; Range requests, feedback and deletion."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile
from elevenlabs import ElevenLabs

from app.config.agent import AgentConfig
from tests.audio_samples import speech_like
from tests.e2e.test_twilio_call import ANSWER, GREETING, opening_hours
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

DISCLOSURE = "This call is recorded."
WINDOW_S = 0.05


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    config.platform_settings.privacy.record_voice = True
    config.velox.recording_disclosure = DISCLOSURE
    stt = ScriptedSpeechToText(["What are your opening hours?", "Do you open on Sundays?"])
    with voice_service(
        tmp_path,
        config=config,
        stt=stt,
        llm=ScriptedLanguageModel(opening_hours),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


def http(method: str, url: str, **options: object) -> httpx.Response:
    """A blocking request (the server runs in its own thread; the test's loop has nothing else
    to do meanwhile)."""
    return httpx.request(method, url, **options)  # type: ignore[arg-type]


def loud_windows(channel: np.ndarray, rate: int) -> np.ndarray:
    """Per 50 ms window: is anything there (RMS above -40 dBFS)?"""
    size = int(rate * WINDOW_S)
    count = len(channel) // size
    windows = channel[: count * size].reshape(count, size).astype(np.float64)
    rms = np.sqrt(np.mean(windows**2, axis=1))
    loud: np.ndarray = rms > 0.01
    return loud


def runs(loud: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of loud windows."""
    spans: list[tuple[float, float]] = []
    start = None
    for index, on in enumerate([*loud.tolist(), False]):
        if on and start is None:
            start = index
        elif not on and start is not None:
            spans.append((start * WINDOW_S, index * WINDOW_S))
            start = None
    return spans


async def place_call_with_a_barge_in(service: VoiceService) -> str:
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=3)
        greeting = asyncio.create_task(caller.silence(4.0))
        await caller.wait_until_quiet(silence_s=0.3, timeout=6)
        await greeting
        await caller.play(speech_like(1.0))  # the question
        await caller.silence(2.5)  # the answer plays
        await caller.play(speech_like(0.8))  # the caller cuts in
        await caller.wait_for_clear(timeout=2)
        await caller.silence(2.0)  # the agent answers the interruption
    conversation_id: str = parameters["conversation_id"]
    return conversation_id


async def test_the_recording_holds_the_caller_left_and_what_they_heard_right(
    service: VoiceService,
) -> None:
    conversation_id = await place_call_with_a_barge_in(service)
    body = service.ended_conversation(conversation_id)
    assert body["transcript"][0]["message"] == f"{DISCLOSURE} {GREETING}"
    assert (body["has_audio"], body["has_user_audio"], body["has_response_audio"]) == (
        True,
        True,
        True,
    )
    interrupted = body["transcript"][2]
    assert interrupted["interrupted"] is True
    assert ANSWER.startswith(interrupted["message"])

    response = http(
        "GET",
        f"{service.base_url}/v1/convai/conversations/{conversation_id}/audio",
        headers=service.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    audio, rate = soundfile.read(io.BytesIO(response.content), dtype="float32")
    assert audio.shape[1] == 2
    assert rate == 8000  # a Twilio call is recorded at the rate the caller hears
    left, right = runs(loud_windows(audio[:, 0], rate)), runs(loud_windows(audio[:, 1], rate))
    print(f"left {left}\nright {right}")  # shown by pytest when the test fails

    # Left: the caller's two utterances, nothing else (the agent's tone is not on their side).
    assert [end - start for start, end in left] == [
        pytest.approx(1.0, abs=0.1),
        pytest.approx(0.8, abs=0.1),
    ]
    question, barge_in = left
    # Right: the greeting before the question, the answer after it, cut while the caller was
    # cutting in, and silent until the caller has finished (the audio sent ahead of the cut was
    # never heard, so it is not there either).
    assert right[0][1] < question[0]
    # (the answer may come in more than one stretch: on a loaded machine the sending can fall
    # behind for a moment, and the caller heard that gap too)
    answer = [span for span in right if question[1] < span[0] < barge_in[0]]
    assert answer, "the answer played before the caller cut in"
    cut = answer[-1][1]
    # The cut within the caller's 0.8 s interruption: generous, for a loaded machine, where it
    # has come 0.6 s in; unheard, the answer would run on for seconds. Not before it, but for
    # one window: the agent stops 60 ms into the caller's speech, and on a loaded machine the
    # caller's frames, laid by when they arrived, can come a frame or two late.
    assert barge_in[0] - WINDOW_S <= cut < barge_in[1]
    assert not [span for span in right if cut < span[0] < barge_in[1]]
    assert right[-1][0] > barge_in[1]  # the answer to the interruption
    assert len(audio) / rate == pytest.approx(body["metadata"]["call_duration_secs"], abs=1.0)

    # The peaks the dashboard draws its two lanes from say the same: loud where each spoke.
    peaks = http(
        "GET",
        f"{service.base_url}/v1/convai/conversations/{conversation_id}/audio/peaks",
        headers=service.headers,
    ).json()
    assert peaks["duration_secs"] == pytest.approx(len(audio) / rate, abs=0.1)
    per_second = peaks["peaks_per_second"]
    caller, heard = peaks["channels"]
    middle = (question[0] + question[1]) / 2
    assert caller[int(middle * per_second)] > 0.05
    assert heard[int(middle * per_second)] < 0.01


async def test_the_recording_seeks_by_range_and_goes_when_the_call_is_deleted(
    service: VoiceService,
) -> None:
    conversation_id = await place_call_with_a_barge_in(service)
    service.ended_conversation(conversation_id)
    url = f"{service.base_url}/v1/convai/conversations/{conversation_id}"
    whole = http("GET", f"{url}/audio", headers=service.headers).content
    assert http("GET", f"{url}/audio/peaks", headers=service.headers).status_code == 200
    assert list(service.settings.resolved_recordings_dir().rglob("*.mp3.peaks.json"))

    part = http("GET", f"{url}/audio", headers={**service.headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    beyond = http("GET", f"{url}/audio", headers={**service.headers, "Range": "bytes=99999999-"})
    assert beyond.status_code == 416
    assert beyond.json()["detail"]["status"] == "range_not_satisfiable"
    garbage = http("GET", f"{url}/audio", headers={**service.headers, "Range": "lines=1-2"})
    assert garbage.status_code == 416

    # The official SDK receives the same bytes.
    client = ElevenLabs(api_key=service.api_key, base_url=service.base_url)
    assert b"".join(client.conversational_ai.conversations.audio.get(conversation_id)) == whole

    liked = http("POST", f"{url}/feedback", json={"feedback": "like"}, headers=service.headers)
    assert liked.status_code == 200
    assert http("DELETE", url, headers=service.headers).status_code == 200
    assert http("GET", url, headers=service.headers).status_code == 404
    assert http("GET", f"{url}/audio", headers=service.headers).status_code == 404
    assert not list(service.settings.resolved_recordings_dir().rglob("*.mp3*"))


async def test_an_agent_that_does_not_record_leaves_no_audio(tmp_path: Path) -> None:
    config = AgentConfig(name="Quiet desk")
    config.conversation_config.agent.first_message = GREETING
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(opening_hours),
        tts=ToneTextToSpeech(),
    ) as service:
        stream_url, parameters = service.dial()
        async with TwilioCaller(
            stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
        ) as caller:
            await caller.silence(1.0)
        service.ended_conversation(parameters["conversation_id"])
        response = http(
            "GET",
            f"{service.base_url}/v1/convai/conversations/{parameters['conversation_id']}/audio",
            headers=service.headers,
        )
        assert response.status_code == 404
        assert response.json()["detail"]["status"] == "audio_not_found"
        assert not service.settings.resolved_recordings_dir().exists()
