"""What one Whisper decode is given and what of its output is kept: pure rules, no model.

Whisper was trained on 30 s windows, and faster-whisper pads every utterance to 30 s: a 2 s
question then costs a 30 s encode. CTranslate2's encoder accepts a shorter log-mel, so the
window is the utterance and a short tail of silence (`TAIL_PADDING_S`; without it the last word
is often lost). On short windows Whisper tiny sometimes loops ("... on Saturday? What are your
opening hours on Saturday? ...") or invents a word for noise ("you", "I don't know."): the
output is capped by the audio's length, a phrase repeated to the end is cut back to one, and a
decode the model itself judges to be no speech yields no words.

A sentence the caller continues after a short pause is decoded whole, both parts' audio in one
window, and the words after those already given are the new ones (`continuation`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

SAMPLE_RATE = 16_000
# Whisper's encoder reads at most 30 s (3000 log-mel frames, two per encoder position).
MAX_WINDOW_S = 30.0
# Silence after the utterance: its last word gets its context (1.0-2.0 s measured alike).
TAIL_PADDING_S = 1.5
# A decode unsure of its words (average log-probability under `LOW_AVG_LOGPROB`) is tried again
# on a longer silent tail, and the surer of the two kept: on the short window Whisper tiny now
# and then stopped after the first word of a sentence ("Hello?" for a 2.4 s greeting, 4 in 30
# renditions of Piper's voice, each at -1.1 to -1.6); a 5 s tail gave the whole sentence at
# about -0.45 in every one, for a second decode's time only when the first was unsure.
UNSURE_TAIL_PADDING_S = 5.0
HOP_SAMPLES = 160  # one log-mel frame: 10 ms
# Output tokens allowed: a fixed allowance plus a speaking rate no caller exceeds (people say
# about 2.5-3 words a second, about 4 tokens); a loop runs into the cap instead of to 448.
TOKENS_BASE = 8
TOKENS_PER_SECOND = 6
# The no-speech gate (Whisper's own rule, with its thresholds, plus a surer one): silence, line
# noise, hum, clicks and a cough measured 0.80-0.99 (clicks with confident words: 0.93, -0.69);
# short answers ("yes", "no", "okay", "bye") 0.24-0.55. A long utterance that starts with a
# pause can score high while its words are sure, so only the surest score drops sure words.
NO_SPEECH_SURE = 0.9
NO_SPEECH_LIKELY = 0.6
LOW_AVG_LOGPROB = -1.0
# A phrase repeated to the end of the output is a loop when it came back at least this many
# times (a one- or two-word phrase needs more: "no, no" is said).
_MIN_COPIES_SHORT = 3
_MIN_COPIES = 2
# A loop cut by the token cap ends on part of the phrase: that part must be this long to count.
_MIN_PARTIAL_WORDS = 3

_WORD_KEY = re.compile(r"[^\w']+")


def token_cap(audio_seconds: float) -> int:
    """The most output tokens a decode of `audio_seconds` of speech may produce."""
    return TOKENS_BASE + round(TOKENS_PER_SECOND * max(0.0, audio_seconds))


def window_samples(audio_samples: int, tail_s: float = TAIL_PADDING_S) -> int:
    """The decode window for `audio_samples` of speech: the speech, the silent tail, an even
    number of log-mel frames (the encoder halves them) and at most 30 s."""
    wanted = audio_samples + round(tail_s * SAMPLE_RATE)
    frames = min(wanted, round(MAX_WINDOW_S * SAMPLE_RATE)) // HOP_SAMPLES
    return (frames - frames % 2) * HOP_SAMPLES


def max_speech_samples() -> int:
    """The longest speech one window holds with its silent tail."""
    return round((MAX_WINDOW_S - TAIL_PADDING_S) * SAMPLE_RATE)


def is_no_speech(no_speech_prob: float, avg_logprob: float) -> bool:
    """Whether a decode heard nothing: the model says no speech surely, or likely while unsure
    of its words (Whisper's `no_speech_threshold` 0.6 with `logprob_threshold` -1.0)."""
    if no_speech_prob >= NO_SPEECH_SURE:
        return True
    return no_speech_prob >= NO_SPEECH_LIKELY and avg_logprob < LOW_AVG_LOGPROB


@dataclass(frozen=True, slots=True)
class Loop:
    start: int  # index of the first word of the first copy
    period: int  # words per copy


def _key(word: str) -> str:
    return _WORD_KEY.sub("", word.lower())


def find_loop(words: list[str], *, truncated: bool) -> Loop | None:
    """The earliest phrase that repeats, back to back, to the end of `words`.

    `truncated` says the decode stopped at its token cap: then the last copy may be partial.
    """
    keys = [_key(word) for word in words]
    count = len(keys)
    for start in range(count):
        for period in range(1, (count - start) // 2 + 1 if not truncated else count - start):
            tail = count - start - period  # words after the first copy
            if not _repeats(keys, start, period):
                continue
            copies = 1 + tail / period
            needed = _MIN_COPIES_SHORT if period <= 2 else _MIN_COPIES
            if copies >= needed:
                return Loop(start, period)
            if truncated and period > 2 and tail >= _MIN_PARTIAL_WORDS:
                return Loop(start, period)
    return None


def _repeats(keys: list[str], start: int, period: int) -> bool:
    """Whether every word after the first copy equals the word one period earlier."""
    end = len(keys)
    if start + period >= end:
        return False
    return all(keys[index] == keys[index - period] for index in range(start + period, end))


def trim_repetition(text: str, *, truncated: bool = False) -> str:
    """`text` with a phrase looped to its end kept once ("What? What? What" → "What?")."""
    words = text.split()
    loop = find_loop(words, truncated=truncated)
    if loop is None:
        return text.strip()
    return " ".join(words[: loop.start + loop.period])


@dataclass(frozen=True, slots=True)
class Continuation:
    words: str  # the new words
    recut: bool  # the earlier reading's last words were heard differently with the new audio


def continuation(earlier: str, sentence: str) -> Continuation:
    """The words of `sentence` (a decode of the earlier audio and the new together) that come
    after `earlier` (what the earlier audio was heard as alone).

    Heard alone, a part cut off by a pause is often misheard at its edge ("How much does it"
    for "How much does ship-"): the new words start after the last word the two readings
    share, in order, and the earlier reading was `recut`. With none shared, the whole sentence
    is new.
    """
    before = [_key(word) for word in earlier.split()]
    words = sentence.split()
    matcher = difflib.SequenceMatcher(None, before, [_key(word) for word in words], autojunk=False)
    shared = [block for block in matcher.get_matching_blocks() if block.size]
    if not shared:
        return Continuation(sentence.strip(), recut=bool(before))
    last = shared[-1]
    return Continuation(" ".join(words[last.b + last.size :]), last.a + last.size < len(before))
