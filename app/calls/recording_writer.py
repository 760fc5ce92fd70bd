"""The recording writer process: `python -m app.calls.recording_writer`.

One per serving process, started by it (`app/calls/recording_link.py`). It reads orders from its
standard input, mixes and encodes every recorded call of that process (`recording_mix.py`) and
answers on its standard output. It ends when its input ends: the serving process closed it to
stop it, or died. Its mixing runs here so that it never competes with the serving process's
event loop for the interpreter.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import IO

from app.calls.recording_mix import Mixer
from app.calls.recording_wire import Order, Reply, pack, unpack
from app.observability.logs import configure_logging

log = logging.getLogger("app.calls.recording_writer")

WRITER_NICENESS = 10


class RecordingWriter:
    """Every open recording of one serving process, by the key it gave them."""

    def __init__(self) -> None:
        self.mixers: dict[int, Mixer] = {}
        # Recordings that failed before they finished, with why (told at their finish).
        self.failures: dict[int, str] = {}

    def obey(self, order: Order) -> Reply | None:
        """Carry out one order; the reply it needs, if any."""
        match order:
            case ("open", key, path, rate, started, hold_s):
                self._open(key, Path(path), rate, started, hold_s)
            case ("batch", key, caller, agent, now):
                mixer = self.mixers.get(key)
                if mixer is not None:
                    try:
                        mixer.apply(caller, agent, now)
                    except Exception as error:
                        self._fail(key, error)
            case ("finish", key, ended, request):
                return self._finish(key, ended, request)
            case ("sync", request):
                return request, True, None
        return None

    def _open(self, key: int, path: Path, rate: int, started: float, hold_s: float) -> None:
        try:
            self.mixers[key] = Mixer(path, rate, started, hold_s)
        except Exception as error:
            self._fail(key, error)

    def _finish(self, key: int, ended: float, request: int) -> Reply:
        mixer = self.mixers.pop(key, None)
        failure = self.failures.pop(key, None)
        if mixer is None:
            return request, False, failure or "the recording was never opened"
        try:
            return request, True, mixer.finish(ended)
        except Exception as error:
            log.exception("recording %s could not be finished", mixer.path)
            mixer.abandon()
            return request, False, repr(error)

    def _fail(self, key: int, error: Exception) -> None:
        log.error("recording %s failed: %r", key, error)
        mixer = self.mixers.pop(key, None)
        if mixer is not None:
            mixer.abandon()
        self.failures[key] = repr(error)

    def abandon_all(self) -> None:
        """The serving process is gone: nothing will finish these, and no call row will name
        them, so their partial files go."""
        for mixer in self.mixers.values():
            mixer.abandon()
        self.mixers.clear()


def serve(orders: IO[bytes], replies: IO[bytes]) -> None:
    writer = RecordingWriter()
    while (message := unpack(orders)) is not None:
        answers = [reply for order in message if (reply := writer.obey(order)) is not None]
        if answers:
            replies.write(pack(answers))
            replies.flush()
    writer.abandon_all()


def main() -> None:
    configure_logging("INFO")  # JSON lines, or the console format VELOX_LOG_FORMAT asks for
    # A Ctrl-C at the terminal reaches the whole process group; the serving process decides when
    # this one ends (it closes the pipe after its calls have finished their recordings).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Calls' frames come first: a recording has seconds of slack, a frame has milliseconds, so
    # on a busy machine the kernel gives this process what the serving processes leave.
    os.nice(WRITER_NICENESS)
    # Replies go on the original standard output; anything else printed goes to standard error.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
