"""The conversational-feel probes: what the caller says over the agent, and what it means.

Shared by the bench server (the scripted recognizer follows each kind's script, the scripted
LLM answers by topic) and the callers (who speak the same words with espeak-ng).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import Enum
from functools import cache

from app.audio.levels import pcm16_dbfs
from bench.phone_line import FRAME_S, SILENCE_PAYLOAD, Utterance
from bench.utterances import espeak_pcm16, peak_normalized
from telephony.audio import mulaw_to_pcm16
from tests.audio_samples import noise

GREETING = "Hi, Acme here."
QUESTION = "What are your opening hours?"
ANSWER = "We open at nine in the morning on weekdays. On Saturdays we open at ten and close at two."
HESITATION_FIRST = "I would like to book an appointment"
HESITATION_SECOND = "for next Tuesday morning please"
HESITATION_PAUSE_S = 0.7
BOOKED = "Sure, Tuesday morning works. I have booked you in for nine."
INTERRUPTION = "Actually I want to book a table for four people tonight"
INTERRUPTION_ANSWER = "Of course. For how many people?"
FALLBACK_ANSWER = "Sorry, could you say that again?"
COUGH_SECONDS = 0.15
COUGH_DBFS = -12.0
ECHO_GAIN_DB = -20.0
ECHO_DELAY_S = 0.1


class Probe(Enum):
    MM_HMM = "mm-hmm"
    OKAY = "okay"
    COUGH = "cough"
    ECHO = "echo"
    HESITATION = "hesitation"
    INTERRUPTION = "interruption"

    @property
    def resumes(self) -> bool:
        """Said over the reply, this should leave the reply going (not a turn, nothing lost)."""
        return self in (Probe.MM_HMM, Probe.OKAY, Probe.COUGH, Probe.ECHO)


@dataclass(frozen=True, slots=True)
class RecognizerScript:
    """What the caller says, in order ("" is a sound with no words: the cough), then `then`
    (what a recognizer would make of anything more: the agent's own words, for an echo)."""

    said: tuple[str, ...]
    then: str = ""


SCRIPTS: dict[Probe, RecognizerScript] = {
    Probe.MM_HMM: RecognizerScript((QUESTION, "mm-hmm")),
    Probe.OKAY: RecognizerScript((QUESTION, "okay")),
    Probe.COUGH: RecognizerScript((QUESTION, "")),
    Probe.ECHO: RecognizerScript((QUESTION,), then="we open at nine in the morning"),
    Probe.HESITATION: RecognizerScript((HESITATION_FIRST, HESITATION_SECOND)),
    Probe.INTERRUPTION: RecognizerScript((QUESTION, INTERRUPTION)),
}


def answer_to(words: str) -> str:
    """The scripted agent's reply to the caller's last words, by topic."""
    said = words.lower()
    if "hours" in said:
        return ANSWER
    if "table" in said:
        return INTERRUPTION_ANSWER
    if "appointment" in said or "tuesday" in said:
        return BOOKED
    return FALLBACK_ANSWER


@cache
def spoken(text: str) -> Utterance:
    """The caller saying `text` (espeak-ng, trimmed of its padding); "" is the cough."""
    if not text:
        return Utterance.from_pcm16(noise(COUGH_SECONDS, dbfs=COUGH_DBFS))
    return Utterance.from_pcm16(peak_normalized(espeak_pcm16(text)))


def voiced_frames(utterance: Utterance, threshold_dbfs: float) -> int:
    """How many of the utterance's frames reach `threshold_dbfs` once decoded, as the engine
    will see them."""
    return sum(
        pcm16_dbfs(mulaw_to_pcm16(base64.b64decode(payload))) >= threshold_dbfs
        for payload in utterance.payloads
    )


@dataclass(frozen=True, slots=True)
class CallerAudio:
    question: Utterance
    probes: dict[Probe, Utterance]
    # Frame offsets in the hesitation: where the first half ends and the second begins.
    hesitation_first_frames: int
    hesitation_second_at: int


@cache
def caller_audio() -> CallerAudio:
    """Every utterance of the probes, synthesized once (espeak-ng, trimmed of its padding)."""
    first, second = spoken(HESITATION_FIRST), spoken(HESITATION_SECOND)
    pause = (SILENCE_PAYLOAD,) * round(HESITATION_PAUSE_S / FRAME_S)
    return CallerAudio(
        question=spoken(QUESTION),
        probes={
            Probe.MM_HMM: spoken("mm-hmm"),
            Probe.OKAY: spoken("okay"),
            Probe.COUGH: spoken(""),
            Probe.HESITATION: Utterance(first.payloads + pause + second.payloads),
            Probe.INTERRUPTION: spoken(INTERRUPTION),
        },
        hesitation_first_frames=len(first.payloads),
        hesitation_second_at=len(first.payloads) + len(pause),
    )
