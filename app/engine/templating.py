"""Tenants' templates (prompts, first messages, voicemail scripts), rendered with bounded work.

A template is code a tenant wrote: `{% for i in range(100000) %}…` or `{{ 'x' * 20000000 }}`
would hold the event loop (and every call on the node) for as long as it runs. So a template
with any Jinja syntax renders in a worker process of its own, under a memory limit and a
deadline; a worker that overruns is killed and replaced. Jinja's sandbox keeps the template
away from Python's internals; anything a render raises (Jinja's errors, `1/0`, an integer too
long to print, memory) comes back as an error, never as an exception. Plain text (no `{{`,
`{%` or `{#`) is returned as it is, without a round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import select
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Work a render may do: wall time, address space of the worker, characters produced.
RENDER_TIMEOUT_S = 1.0
# A new worker's start (an interpreter, Jinja imported) is not the template's time: it has this
# long to say it is ready, however loaded the machine, before the render's own deadline starts.
WORKER_START_TIMEOUT_S = 15.0
READY = "ready"
WORKER_MEMORY_BYTES = 768 * 1024 * 1024
WORKERS = 2
ROOT = Path(__file__).resolve().parents[2]
# A sequence built by `*` may not exceed this (a string, list or tuple times a number).
MAX_REPEAT_LENGTH = 1_000_000
MAX_POWER_EXPONENT = 1000


@dataclass(frozen=True, slots=True)
class Rendered:
    """A render's text, or why there is none (`error`, for the call's events)."""

    text: str
    error: str | None = None


def has_template_syntax(source: str) -> bool:
    return "{{" in source or "{%" in source or "{#" in source


class TemplateRenderer:
    """Renders in worker processes; safe to share between calls and threads."""

    def __init__(
        self,
        *,
        timeout_s: float = RENDER_TIMEOUT_S,
        memory_bytes: int = WORKER_MEMORY_BYTES,
        workers: int = WORKERS,
    ) -> None:
        self._timeout_s = timeout_s
        self._memory_bytes = memory_bytes
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._slots = threading.Semaphore(workers)

    async def render(self, source: str, variables: dict[str, Any], max_chars: int) -> Rendered:
        """`source` rendered with `variables`; an error when it fails, overruns or is too long."""
        if not has_template_syntax(source):
            if len(source) > max_chars:
                return Rendered("", _too_long(len(source), max_chars))
            return Rendered(source)
        return await asyncio.to_thread(self.render_blocking, source, variables, max_chars)

    def render_blocking(self, source: str, variables: dict[str, Any], max_chars: int) -> Rendered:
        """As `render`, for a thread that may wait (never the event loop)."""
        job = json.dumps(
            {"source": source, "variables": variables, "max_chars": max_chars}, default=str
        )
        with self._slots:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = _Worker(self._memory_bytes)
            result = worker.render(job, self._timeout_s)
            if worker.alive:
                self._idle.put(worker)
            return result

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return


_shared: TemplateRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> TemplateRenderer:
    """The process's renderer: its workers serve every call on the node."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TemplateRenderer()
        return _shared


async def render_template(source: str, variables: dict[str, Any], max_chars: int) -> Rendered:
    """`source` rendered by the process's renderer (see `TemplateRenderer.render`)."""
    return await shared_renderer().render(source, variables, max_chars)


def _too_long(length: int, max_chars: int) -> str:
    return f"the rendered text has {length} characters, over the limit of {max_chars}"


class _Worker:
    """`python -m app.engine.templating`: one JSON job per line in, one JSON reply per line out."""

    def __init__(self, memory_bytes: int) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "app.engine.templating", str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        self._ready = False

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def render(self, job: str, timeout_s: float) -> Rendered:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            if not self._ready:
                ready, _, _ = select.select([stdout], [], [], WORKER_START_TIMEOUT_S)
                self._ready = bool(ready) and stdout.readline().strip() == READY.encode()
                if not self._ready:
                    self.kill()
                    return Rendered("", "the template renderer did not start")
            stdin.write(job.encode() + b"\n")
            stdin.flush()
            ready, _, _ = select.select([stdout], [], [], timeout_s)
            if ready:
                line = stdout.readline()
                if line:
                    reply = json.loads(line)
                    return Rendered(reply["text"], reply["error"])
        except (OSError, ValueError):
            pass
        gone = self._process.poll() is not None
        self.kill()
        if gone:  # the worker died: its memory limit
            return Rendered("", "the template used more memory than a render may")
        return Rendered("", f"the template took longer than {timeout_s:g} s to render")

    def kill(self) -> None:
        self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)


def _serve(memory_bytes: int) -> None:
    """A worker's loop: one job at a time, until its parent closes the pipe."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    environment = _bounded_environment()
    sys.stdout.write(READY + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        job = json.loads(line)
        reply = _render(environment, job["source"], job["variables"], job["max_chars"])
        sys.stdout.write(json.dumps({"text": reply.text, "error": reply.error}) + "\n")
        sys.stdout.flush()


def _render(environment: Any, source: str, variables: dict[str, Any], max_chars: int) -> Rendered:
    try:
        text = environment.from_string(source).render(variables)
    except MemoryError:
        return Rendered("", "the template used more memory than a render may")
    except Exception as error:  # anything a template raises is the template's error
        return Rendered("", f"{type(error).__name__}: {error}"[:500])
    if len(text) > max_chars:
        return Rendered("", _too_long(len(text), max_chars))
    return Rendered(text)


def _bounded_environment() -> Any:
    """Jinja's sandbox, with `*` and `**` refused where they would build something huge."""
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class BoundedSandbox(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "*":
                for sequence, count in ((left, right), (right, left)):
                    if (
                        isinstance(sequence, str | list | tuple)
                        and isinstance(count, int)
                        and len(sequence) * count > MAX_REPEAT_LENGTH
                    ):
                        raise SecurityError("a repeated sequence would be too long")
                return left * right
            if isinstance(right, int) and abs(right) > MAX_POWER_EXPONENT:
                raise SecurityError("an exponent is too large")
            return left**right

    return BoundedSandbox(autoescape=False)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
