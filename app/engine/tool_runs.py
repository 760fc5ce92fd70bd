"""A call's tool calls: each runs once, in a task of its own that a barge-in does not cancel.

When the caller cuts in while a tool runs, the response waiting for it is cancelled but the
tool goes on; its result is placed in the history right after the call that asked for it, and
the next turn waits for it before asking the model again (it is never run a second time). Each
call and result is recorded on its agent turn in ElevenLabs' `tool_calls` / `tool_results`
shapes, latency included. A tool in `async` execution mode answers the model at once and its
result follows as context when it arrives.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.aio import wait_out
from app.engine.conversation import Conversation
from app.engine.record import TurnRecord
from app.engine.tool_outcome import ToolKind, ToolOutcome
from app.providers.base import ToolCall

log = logging.getLogger(__name__)

Execute = Callable[[ToolCall], Awaitable[ToolOutcome]]


class ToolRuns:
    def __init__(
        self, conversation: Conversation, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._conversation = conversation
        self._clock = clock
        self._runs: dict[str, asyncio.Task[ToolOutcome]] = {}

    def start(
        self,
        call: ToolCall,
        turn: TurnRecord | None,
        kind: ToolKind,
        execute: Execute,
        *,
        background: bool = False,
    ) -> asyncio.Task[ToolOutcome]:
        """The call's run: started now, or the one already started for this call id."""
        running = self._runs.get(call.id)
        if running is not None:
            return running
        entry = _call_entry(call, kind)
        if turn is not None:
            turn.tool_calls.append(entry)
        if background:
            self._conversation.place_tool_result(
                call, json.dumps({"status": "running in the background; its result will follow"})
            )
        task = asyncio.create_task(
            self._run(call, turn, kind, entry, execute, background), name=f"tool:{call.name}"
        )
        self._runs[call.id] = task
        return task

    async def _run(
        self,
        call: ToolCall,
        turn: TurnRecord | None,
        kind: ToolKind,
        entry: dict[str, Any],
        execute: Execute,
        background: bool,
    ) -> ToolOutcome:
        started = self._clock()
        try:
            outcome = await execute(call)
        except asyncio.CancelledError:
            _record(turn, call, kind, entry, _cancelled(self._clock() - started))
            raise
        except Exception as error:  # a tool's failure is the model's to talk about
            log.exception("tool %s failed", call.name)
            outcome = ToolOutcome(
                json.dumps({"error": f"the tool {call.name!r} failed"}),
                is_error=True,
                error_type="tool_failed",
            )
            outcome.details = {"error": repr(error)[:300]}
        if not outcome.latency_secs:
            outcome.latency_secs = self._clock() - started
        _record(turn, call, kind, entry, outcome)
        if background:
            self._conversation.add_context(f"the tool {call.name!r} returned: {outcome.result}")
        else:
            self._conversation.place_tool_result(call, outcome.result)
        return outcome

    async def settle(self) -> None:
        """Wait for tools still running from an earlier turn, so the model sees their results."""
        pending = [task for task in self._runs.values() if not task.done()]
        if pending:
            await asyncio.gather(
                *(asyncio.shield(task) for task in pending), return_exceptions=True
            )

    async def close(self) -> None:
        """The call ended: stop what still runs (recorded as cancelled)."""
        pending = [task for task in self._runs.values() if not task.done()]
        for task in pending:
            task.cancel()
        for task in pending:
            await wait_out(task)


def _call_entry(call: ToolCall, kind: ToolKind) -> dict[str, Any]:
    return {
        "type": kind,
        "request_id": call.id,
        "tool_name": call.name,
        "params_as_json": json.dumps(call.arguments, ensure_ascii=False),
        "tool_has_been_called": False,
        "tool_details": None,
    }


def _cancelled(latency: float) -> ToolOutcome:
    return ToolOutcome(
        json.dumps({"error": "the call ended before the tool answered"}),
        is_error=True,
        error_type="call_ended",
        latency_secs=latency,
    )


def _record(
    turn: TurnRecord | None,
    call: ToolCall,
    kind: ToolKind,
    entry: dict[str, Any],
    outcome: ToolOutcome,
) -> None:
    entry["tool_has_been_called"] = outcome.called
    if outcome.details is not None and kind == "webhook":
        entry["tool_details"] = outcome.details
    if turn is None:
        return
    result: dict[str, Any] = {
        "type": kind,
        "request_id": call.id,
        "tool_name": call.name,
        "result_value": outcome.result,
        "is_error": outcome.is_error,
        "tool_has_been_called": outcome.called,
        "tool_latency_secs": round(outcome.latency_secs, 3),
        "error_type": outcome.error_type,
        "dynamic_variable_updates": outcome.variable_updates,
    }
    if outcome.tool_id is not None:
        result["tool_id"] = outcome.tool_id
    turn.tool_results.append(result)
