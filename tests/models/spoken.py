"""Real speech for model tests: espeak-ng sentences as PCM16 16 kHz, clean or phone-degraded;
Piper's voice; what a caller heard, transcribed back."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager

import pytest

from app.audio.formats import ENGINE_SAMPLE_RATE, AudioFormat
from app.providers.piper.tts import PiperTextToSpeech
from app.providers.registry import ProviderRegistry
from app.providers.whisper.stt import WhisperSpeechToText
from telephony.audio import StreamingResampler, mulaw_to_pcm16, pcm16_to_mulaw
from tests.e2e.voice_service import RunningService
from tests.twilio_caller import ReceivedMedia, TwilioCaller

FRAME_BYTES = ENGINE_SAMPLE_RATE * 2 // 50  # 20 ms of PCM16
# Slow, with short gaps between words: espeak-ng at its default pace is hard even for people.
ESPEAK_VOICE = ("-v", "en-us", "-s", "140", "-g", "4")


def speak(text: str) -> bytes:
    """`text` spoken by espeak-ng, as PCM16 16 kHz mono."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: apt-get install -y espeak-ng")
    wav = subprocess.run(
        ["espeak-ng", *ESPEAK_VOICE, "--stdout", text], capture_output=True, check=True
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        pcm = reader.readframes(reader.getnframes())
    resampler = StreamingResampler(rate, ENGINE_SAMPLE_RATE)
    return resampler.resample_chunk(pcm) + resampler.flush()


def over_the_phone(pcm16: bytes) -> bytes:
    """The same audio after a phone line: down to 8 kHz mu-law and back up to 16 kHz."""
    down = StreamingResampler(ENGINE_SAMPLE_RATE, 8000)
    narrow = down.resample_chunk(pcm16) + down.flush()
    up = StreamingResampler(8000, ENGINE_SAMPLE_RATE)
    decoded = mulaw_to_pcm16(pcm16_to_mulaw(narrow))
    return up.resample_chunk(decoded) + up.flush()


def frames(pcm16: bytes) -> Iterator[bytes]:
    """20 ms frames, the last one padded with silence, as the engine hands them out."""
    for start in range(0, len(pcm16), FRAME_BYTES):
        frame = pcm16[start : start + FRAME_BYTES]
        yield frame + bytes(FRAME_BYTES - len(frame))


async def piper_voice(registry: ProviderRegistry, text: str) -> bytes:
    """`text` in Piper's voice as PCM16 16 kHz (the caller's side of the line)."""
    tts = registry.tts.get("piper")
    assert isinstance(tts, PiperTextToSpeech)
    native: AudioFormat = tts.output_format(tts.format)
    resampler = StreamingResampler(native.sample_rate, ENGINE_SAMPLE_RATE)
    audio = b""
    async for chunk in tts.synthesize(text, "default", native):
        audio += resampler.resample_chunk(chunk.data)
    return audio + resampler.flush()


async def heard_text(stt: WhisperSpeechToText, media: Sequence[ReceivedMedia]) -> str:
    """What Whisper hears in `media` (agent audio as the caller received it), lower case.

    Half a second of silence goes either side: Whisper tiny, given Piper's greeting over the
    line as it is, repeated it ("hello? accidental? how can i help? hello? ...") in 4 of 40
    tries, and in none of 40 so padded.
    """
    heard = mulaw_to_pcm16(b"".join(item.mulaw for item in media))
    up = StreamingResampler(8000, ENGINE_SAMPLE_RATE)
    quiet = bytes(ENGINE_SAMPLE_RATE)  # 0.5 s of PCM16
    transcript = await stt.transcribe(quiet + up.resample_chunk(heard) + up.flush() + quiet, "en")
    return transcript.text.lower()


def arrivals(media: Sequence[ReceivedMedia]) -> list[float]:
    """When each of `media` arrived, in seconds after the first (for a failing test to show)."""
    return [round(item.at - media[0].at, 2) for item in media] if media else []


@asynccontextmanager
async def greeted_call(
    service: RunningService,
) -> AsyncIterator[tuple[TwilioCaller, dict[str, str]]]:
    """A Twilio-protocol call to `service`, once the greeting has started to reach the caller;
    with the call's parameters (its `conversation_id`)."""
    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=20)
        yield caller, parameters
