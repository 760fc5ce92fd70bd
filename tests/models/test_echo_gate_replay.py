"""The call that lost its interruption, replayed frame by frame through the caller's line.

Issue 12: the caller's first frames reached the engine as one backlog while the greeting's
first frame, digital silence, was playing; the echo gate measured that silence against silence
as a 0 dB echo, and when the caller cut in as the answer began, every frame of their sentence
was gated as echo: no speech start, no `clear`, the agent talked over them to the end.

Here the same voices (Piper for the agent and for the caller, through a phone line) and the same
timing are replayed on a simulated clock through the product's own `CallerLine` with the real
Silero VAD, so the path is taken every time, not one run in six.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from app.audio.formats import MULAW_8K, AudioChunk
from app.engine.echo import EchoGate
from app.engine.listening import CallerLine
from app.engine.speech import SpeechChange, SpeechSegmenter
from app.engine.transcript import TranscriptLog
from app.providers.piper.tts import PiperTextToSpeech
from app.providers.registry import ProviderRegistry
from app.providers.silero.vad import SileroVad
from telephony.audio import OutboundEncoder
from tests.models.dental_agent import GREETING
from tests.models.spoken import frames, over_the_phone, piper_voice

pytestmark = pytest.mark.models

FRAME_S = 0.02
BACKLOG_FRAMES = 20  # the caller's first 0.4 s, queued while the call was set up
QUESTION = "What are your opening hours on Saturday?"
ANSWER = "We are open on Saturday from ten in the morning until two in the afternoon."
INTERRUPTION = "Sorry, can I book a cleaning for Tuesday morning?"


@dataclass
class Replay:
    """What the caller's line made of the interruption."""

    speech_started_after_s: float | None
    gated_voice_frames: int
    gate: EchoGate


async def agent_levels(registry: ProviderRegistry, text: str) -> list[float]:
    """The level of each 20 ms mu-law frame the agent sends for `text` (as the gate sees it)."""
    tts = registry.tts.get("piper")
    assert isinstance(tts, PiperTextToSpeech)
    encoder = OutboundEncoder(MULAW_8K)
    wire = b""
    async for chunk in tts.synthesize(text, "default", tts.output_format(tts.format)):
        wire += encoder.encode(AudioChunk(chunk.data, chunk.format))
    wire += encoder.flush()
    return [encoder.level_dbfs(wire[i : i + 160]) for i in range(0, len(wire) - 159, 160)]


def scaled(pcm16: bytes, gain_db: float) -> bytes:
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float64) * 10 ** (gain_db / 20)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


async def replay(
    registry: ProviderRegistry, silero: SileroVad, *, cut_in_ms: int, caller_gain_db: float
) -> Replay:
    greeting = [-120.0] + await agent_levels(registry, GREETING)  # it led with digital silence
    answer = await agent_levels(registry, ANSWER)
    question = list(frames(over_the_phone(await piper_voice(registry, QUESTION))))
    interruption_pcm = scaled(await piper_voice(registry, INTERRUPTION), caller_gain_db)
    interruption = list(frames(over_the_phone(interruption_pcm)))
    silence = bytes(640)

    gate = EchoGate(suppression_db=12.0, tail_ms=300)
    segmenter = SpeechSegmenter()
    log = TranscriptLog(clock=lambda: 0.0, started=0.0)
    line = CallerLine(silero.open_stream(), gate, segmenter, log)
    for n, level in enumerate(greeting):
        gate.agent_frame(level, n * FRAME_S)
    for _ in range(BACKLOG_FRAMES):  # all at once, while the greeting's first frame plays
        await line.hear(silence, 0.005)
    now = BACKLOG_FRAMES * FRAME_S
    for _ in range(len(greeting) + 25):  # the rest of the greeting, and half a second after
        await line.hear(silence, now)
        now += FRAME_S
    for frame in question:
        await line.hear(frame, now)
        now += FRAME_S
    for _ in range(60):  # the agent thinks
        await line.hear(silence, now)
        now += FRAME_S
    for n, level in enumerate(answer):
        gate.agent_frame(level, now + n * FRAME_S)
    for _ in range(cut_in_ms // 20):
        await line.hear(silence, now)
        now += FRAME_S
    cut_in = now
    voice_from = next(
        n for n, frame in enumerate(interruption) if np.abs(np.frombuffer(frame, "<i2")).max() > 300
    )
    started_at = None
    for frame in interruption:
        heard = await line.hear(frame, now)
        if heard.change is SpeechChange.STARTED and started_at is None:
            started_at = now
        now += FRAME_S
    return Replay(
        None if started_at is None else started_at - (cut_in + voice_from * FRAME_S),
        log.counters.get("echo_frames_gated", 0),
        gate,
    )


@pytest.mark.parametrize("cut_in_ms", [100, 200])
@pytest.mark.parametrize("caller_gain_db", [0.0, -10.0], ids=["at-agent-level", "10-dB-below"])
async def test_a_caller_cutting_in_as_the_answer_begins_becomes_speech_at_once(
    registry: ProviderRegistry, silero: SileroVad, cut_in_ms: int, caller_gain_db: float
) -> None:
    result = await replay(registry, silero, cut_in_ms=cut_in_ms, caller_gain_db=caller_gain_db)
    summary = result.gate.summary()
    assert result.gated_voice_frames == 0, summary
    assert summary["loss_db"] >= 6.0, summary
    assert result.speech_started_after_s is not None, summary
    assert result.speech_started_after_s < 0.3, (result.speech_started_after_s, summary)
