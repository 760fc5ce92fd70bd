"""The recording writer process as its serving process drives it.

The event loop only puts orders on a queue (a call's recording opens, half a second of its
frames, its end); a sender thread takes them, starts the writer process when the first recording
opens (`python -m app.calls.recording_writer`), pickles what is queued and writes it to the
process's pipe; a reader thread per process takes its replies and resolves the waiting futures.
A queue put costs the event loop under a microsecond per batch; pickling and writing to the pipe
on the loop itself cost about ten times that (and wait when the pipe is full), a copy into shared
memory about seven (`python -m bench.recording_handover`).

If the process dies (or cannot start), calls go on: the recordings it held are reported failed
(logged, counted in `velox_recordings_failed`), their partial files removed, and the next
recording that opens starts a new process. `stop()` closes the pipe, so the process finishes
what it was given and exits; a process whose serving process died sees its pipe end and exits.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import app
from app.calls.recording_mix import AgentFrame, CallerFrame
from app.calls.recording_wire import Order, pack, unpack
from app.observability.metrics import RECORDING_WRITER_EXITS, RECORDINGS_FAILED

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0
# Orders written to the pipe in one go at most (the rest follow at once).
MAX_ORDERS_PER_WRITE = 500
LOST = "the recording writer process ended, or could not start, while this call was recorded"


class RecordingFailedError(RuntimeError):
    """A call's recording could not be finished; the call itself was not affected."""


@dataclass(eq=False)
class _Child:
    """One run of the writer process and what it has not answered yet."""

    process: subprocess.Popen[bytes]
    # request -> (its future, and for a finish the recording's path)
    waiting: dict[int, tuple[Future[Any], Path | None]] = field(default_factory=dict)
    reader: threading.Thread | None = None
    stopping: bool = False
    lost: bool = False


# What the event loop queues: an order with the future its reply resolves, or the stop.
_Item = tuple[Order, "Future[Any] | None"]
_STOP = None


class RecordingProcess:
    """One serving process's recording writer process, started on the first recording."""

    def __init__(self, command: list[str] | None = None) -> None:
        self._command = command or [sys.executable, "-m", "app.calls.recording_writer"]
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._sender: threading.Thread | None = None
        self._child: _Child | None = None
        # Open recordings: key -> (the run writing it, None if none could start; its path)
        self._open: dict[int, tuple[_Child | None, Path]] = {}
        self._keys = itertools.count(1)
        self._requests = itertools.count(1)

    # The event loop's side: each only puts an order on the queue (no system call, no copy).

    def open(self, path: Path, rate: int, started: float, hold_s: float) -> int:
        """A recording opens; the key that names it in the other orders."""
        key = next(self._keys)
        self._put(("open", key, str(path), rate, started, hold_s), None)
        return key

    def write(
        self, key: int, caller: list[CallerFrame], agent: list[AgentFrame], now: float
    ) -> None:
        """Half a second of a recording's frames (the lists are handed over, not copied)."""
        self._put(("batch", key, caller, agent, now), None)

    def finish(self, key: int, ended: float) -> Future[dict[str, Any]]:
        """The recording's end; the future gets its summary or a `RecordingFailedError`."""
        future: Future[dict[str, Any]] = Future()
        self._put(("finish", key, ended, next(self._requests)), future)
        return future

    def wait(self) -> None:
        """Block until everything sent so far is done (a benchmark or test on a simulated clock
        paces itself with it, as real time paces a call)."""
        future: Future[Any] = Future()
        self._put(("sync", next(self._requests)), future)
        future.result()

    def stop(self) -> None:
        """Let the process finish what it was given, then end it (killed if it will not)."""
        with self._lock:
            sender = self._sender
        if sender is None or not sender.is_alive():
            return
        self._queue.put(_STOP)
        sender.join()

    def start(self) -> None:
        """Start the process now rather than at the first recording (a benchmark measures its
        footprint before any recording)."""
        with self._lock:
            self._running_child()

    def process_id(self) -> int | None:
        """The writer process's id while it runs."""
        with self._lock:
            return self._child.process.pid if self._child is not None else None

    def _put(self, order: Order, future: Future[Any] | None) -> None:
        self._queue.put((order, future))
        # After the put: a sender that is ending looks at the queue once it has let go.
        sender = self._sender
        if sender is None or not sender.is_alive():
            with self._lock:
                if self._sender is None or not self._sender.is_alive():
                    self._start_sender()

    def _start_sender(self) -> None:
        self._sender = threading.Thread(
            target=self._send_orders, name="recording-sender", daemon=True
        )
        self._sender.start()

    # The sender thread.

    def _send_orders(self) -> None:
        while True:
            items = [self._queue.get()]
            while items[-1] is not _STOP and len(items) < MAX_ORDERS_PER_WRITE:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = items[-1] is _STOP
            orders = [item for item in items if item is not None]
            with self._lock:
                kept = [order for order, future in orders if self._route(order, future)]
                child = self._child
            if kept and child is not None:
                self._deliver(child, kept)
            if stopping:
                self._end_child()
                with self._lock:  # orders put while it stopped get a sender of their own
                    self._sender = None
                    if not self._queue.empty():
                        self._start_sender()
                return

    def _route(self, order: Order, future: Future[Any] | None) -> bool:
        """Whether `order` goes to the running process (started here for a first recording);
        answers at once what no process will (lock held)."""
        match order:
            case ("open", key, where, _, _, _):
                child = self._running_child()
                self._open[key] = (child, Path(where))
                return child is not None
            case ("batch", key, _, _, _):
                entry = self._open.get(key)
                return entry is not None and entry[0] is not None and entry[0] is self._child
            case ("finish", key, _, request):
                assert future is not None
                writer, path = self._open.pop(key, (None, Path()))
                if writer is None or writer is not self._child:
                    _fail(future, path, "writer_lost", LOST)
                    return False
                writer.waiting[request] = (future, path)
                return True
            case ("sync", request):
                assert future is not None
                if self._child is None:
                    _settle(future, None)
                    return False
                self._child.waiting[request] = (future, None)
                return True
        return False

    def _running_child(self) -> _Child | None:
        if self._child is not None:
            return self._child
        root = str(Path(app.__file__).resolve().parent.parent)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]),
        }
        try:
            process = subprocess.Popen(
                self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
            )
        except OSError:
            log.exception("the recording writer process could not start")
            RECORDING_WRITER_EXITS.labels(how="start_failed").inc()
            return None
        child = _Child(process)
        child.reader = threading.Thread(
            target=self._read_replies, args=(child,), name="recording-replies", daemon=True
        )
        child.reader.start()
        self._child = child
        return child

    def _deliver(self, child: _Child, orders: list[Order]) -> None:
        stdin = child.process.stdin
        assert stdin is not None
        try:
            stdin.write(pack(orders))
            stdin.flush()
        except (OSError, ValueError):  # it died: its reader reports the loss as well
            self._lost(child)

    def _end_child(self) -> None:
        with self._lock:
            child, self._child = self._child, None
            if child is None:
                return
            child.stopping = True
        assert child.process.stdin is not None
        with contextlib.suppress(OSError):
            child.process.stdin.close()
        try:
            child.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.error("the recording writer process did not stop in %s s: killed", STOP_TIMEOUT_S)
            child.process.kill()
            child.process.wait()
        if child.reader is not None:
            child.reader.join()

    # The reader thread, one per run of the process.

    def _read_replies(self, child: _Child) -> None:
        stdout = child.process.stdout
        assert stdout is not None
        while (replies := unpack(stdout)) is not None:
            for request, succeeded, payload in replies:
                with self._lock:
                    future, path = child.waiting.pop(request, (None, None))
                if future is None:
                    continue
                if succeeded:
                    _settle(future, payload)
                else:
                    _fail(future, path, "write_error", str(payload))
        stdout.close()
        code = child.process.wait()
        if not child.stopping:
            log.error("the recording writer process ended unasked (exit code %s)", code)
        self._lost(child)

    def _lost(self, child: _Child) -> None:
        """The run ended: what it was still to answer fails; the next recording starts anew."""
        with self._lock:
            if child.lost:
                return
            child.lost = True
            if self._child is child:
                self._child = None
            waiting, child.waiting = child.waiting, {}
        if not child.stopping:
            RECORDING_WRITER_EXITS.labels(how="died").inc()
        for future, path in waiting.values():
            if path is None:
                _settle(future, None)  # a wait: nothing is left to wait for
            else:
                _fail(future, path, "writer_lost", LOST)


def _fail(future: Future[Any], path: Path | None, reason: str, why: str) -> None:
    """Report a recording failed and count it; a dead writer's partial files are removed (a
    writer that is alive removed them itself)."""
    log.warning("recording %s failed (%s): %s", path, reason, why)
    RECORDINGS_FAILED.labels(reason=reason).inc()
    if reason == "writer_lost" and path is not None and path.name:
        for partial in (path.with_suffix(".pcm.part"), path.with_name(path.name + ".part")):
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
    _settle(future, RecordingFailedError(why))


def _settle(future: Future[Any], outcome: object) -> None:
    """Resolve `future` unless its waiter gave up (a call cancelled while it closed)."""
    with contextlib.suppress(InvalidStateError):
        if isinstance(outcome, RecordingFailedError):
            future.set_exception(outcome)
        elif not future.done():
            future.set_result(outcome)
