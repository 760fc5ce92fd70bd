"""Cancelling asyncio work without losing the cancellation of whoever cancels it.

Two patterns swallow a task's own cancellation on Python 3.11, and a swallowed cancellation is a
call that never ends (its response goes on waiting for a caller who hung up):

- `asyncio.wait_for(x, t)` returns `x`'s result when `x` finishes in the same loop turn as the
  awaiting task is cancelled (fixed only in 3.12): use `async with asyncio.timeout(t)` instead.
- `task.cancel(); with suppress(CancelledError): await task` also suppresses a cancellation of
  the awaiting task that arrives meanwhile: use `cancel_and_wait(task)`.

And awaiting a task (or a `gather` of tasks) that ignores its cancel keeps the awaiting task
waiting even when it is cancelled itself, so a timeout around it never fires: `wait_out` waits
through a shield, and a bounded wait on several tasks is `asyncio.wait(tasks, timeout=...)`.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Future[Any] | None) -> None:
    """Cancel `task` and wait until it has finished (its error, if any, is dropped); a
    cancellation of the waiting task itself still propagates."""
    if task is None:
        return
    task.cancel()
    await wait_out(task)


async def wait_out(task: asyncio.Future[Any]) -> None:
    """Wait until `task` has finished, whatever its outcome; a cancellation of the waiting task
    that arrives meanwhile propagates at once, even if `task` is slow to stop (a cancellation it
    was already handling, in a `finally`, does not come back)."""
    current = asyncio.current_task()
    cancellations = current.cancelling() if current is not None else 0
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if current is not None and current.cancelling() > cancellations:
            raise
    except Exception:
        return  # the task's own failure: the waiter only waits for it to end
