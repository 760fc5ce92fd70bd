"""Python's cycle collector on a voice node: what it costs, and keeping it off the startup heap.

A full collection walks every object the process tracks; once the models, the routes and the
settings are loaded that is hundreds of thousands, and the walk stops the event loop for tens to
hundreds of milliseconds: every call on the node hears it as late audio. `freeze_startup_heap`
moves what exists at start-up (none of it ever garbage) out of the collector's reach
(`gc.freeze`), so a full collection walks only what the calls made since. Each collection's pause
is measured into `velox_gc_pause_seconds`.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from app.observability.metrics import GC_PAUSES

_started: dict[int, float] = {}


def _timed(phase: str, info: dict[str, Any]) -> None:
    generation = info["generation"]
    if phase == "start":
        _started[generation] = time.perf_counter()
    elif generation in _started:
        GC_PAUSES.labels(generation=str(generation)).observe(
            time.perf_counter() - _started.pop(generation)
        )


def measure_pauses() -> None:
    """Time every collection from now on (once per process)."""
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)


def freeze_startup_heap() -> None:
    """Collect once, then keep every object alive now out of later collections."""
    gc.collect()
    gc.freeze()
