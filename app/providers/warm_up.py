"""One small inference through each chosen provider at start-up, so the first caller is not
the one who pays for paging model weights in and initialising the runtimes."""

from __future__ import annotations

import asyncio
import logging
import time

import numpy as np

from app.audio.formats import PCM16_16K
from app.config.agent import ProviderChoice
from app.providers.base import ChatMessage, GenerationOptions, close_stream
from app.providers.registry import ProviderRegistry

log = logging.getLogger(__name__)

WARM_UP_TIMEOUT_S = 60.0


def _murmur(seconds: float) -> list[bytes]:
    """Quiet noise in 20 ms frames: enough for a recognizer to run its model once."""
    samples = np.random.default_rng(0).normal(0, 800, int(16000 * seconds)).astype("<i2")
    data = samples.tobytes()
    size = PCM16_16K.frame_bytes
    return [data[i : i + size] for i in range(0, len(data) - size + 1, size)]


async def warm_up(registry: ProviderRegistry, choice: ProviderChoice) -> dict[str, float]:
    """Seconds each role's first inference took; a role that fails is logged and skipped."""
    took: dict[str, float] = {}
    steps = {"vad": _vad, "stt": _stt, "llm": _llm, "tts": _tts}
    for role, step in steps.items():
        started = time.perf_counter()
        try:
            async with asyncio.timeout(WARM_UP_TIMEOUT_S):
                await step(registry, getattr(choice, role))
        except Exception as error:
            log.warning("warming up the %s provider %r failed: %r", role, choice, error)
            continue
        took[role] = round(time.perf_counter() - started, 3)
    log.info("providers warmed up: %s", took)
    return took


async def _vad(registry: ProviderRegistry, name: str) -> None:
    stream = registry.vad.get(name).open_stream()
    for frame in _murmur(0.2):
        await stream.speech_probability(frame)


async def _stt(registry: ProviderRegistry, name: str) -> None:
    stream = await registry.stt.get(name).open_stream("en")
    try:
        for frame in _murmur(1.0):
            await stream.push_audio(frame)
        await stream.finalize()
        async for transcript in stream.transcripts():
            if transcript.is_final:
                break
    finally:
        await stream.aclose()


async def _llm(registry: ProviderRegistry, name: str) -> None:
    messages = [ChatMessage("system", "You are brief."), ChatMessage("user", "Hello")]
    tokens = registry.llm.get(name).stream(messages, [], GenerationOptions(max_tokens=2))
    try:
        async for _ in tokens:
            break
    finally:
        await close_stream(tokens)


async def _tts(registry: ProviderRegistry, name: str) -> None:
    tts = registry.tts.get(name)
    audio = tts.synthesize("Hello.", "default", tts.output_format(PCM16_16K))
    try:
        async for _ in audio:
            break
    finally:
        await close_stream(audio)
