"""A tool call runs once, survives the response that asked for it being cancelled, and leaves
its call and result on the turn in ElevenLabs' shapes."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from app.engine.conversation import Conversation
from app.engine.record import TurnRecord
from app.engine.tool_outcome import ToolOutcome
from app.engine.tool_runs import ToolRuns
from app.providers.base import ToolCall

pytestmark = pytest.mark.unit

CALL = ToolCall("call_1", "check_stock", {"sku": "X1"})


def conversation_with_call() -> Conversation:
    conversation = Conversation("system")
    conversation.add_user("is X1 in stock")
    conversation.add_agent("", (CALL,))
    return conversation


async def test_a_call_id_runs_once_however_often_it_is_asked_for() -> None:
    runs = ToolRuns(conversation_with_call())
    executed: list[str] = []

    async def execute(call: ToolCall) -> ToolOutcome:
        executed.append(call.id)
        await asyncio.sleep(0.01)
        return ToolOutcome('{"in_stock": true}')

    turn = TurnRecord("agent", "", 0)
    first = runs.start(CALL, turn, "webhook", execute)
    again = runs.start(CALL, turn, "webhook", execute)
    await first

    assert first is again
    assert executed == ["call_1"]


async def test_a_cancelled_response_leaves_the_tool_running_and_its_result_in_the_history() -> None:
    conversation = conversation_with_call()
    runs = ToolRuns(conversation)
    release = asyncio.Event()

    async def execute(call: ToolCall) -> ToolOutcome:
        await release.wait()
        return ToolOutcome('{"in_stock": true}', latency_secs=0.5)

    turn = TurnRecord("agent", "", 0)
    task = runs.start(CALL, turn, "webhook", execute)

    async def respond() -> None:
        await asyncio.shield(task)

    waiting = asyncio.create_task(respond())
    await asyncio.sleep(0)
    waiting.cancel()  # the caller cut in: the response waiting for it is gone
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    conversation.add_user("hello?")
    release.set()
    await runs.settle()

    assert [(m.role, m.content) for m in conversation.messages[2:]] == [
        ("assistant", ""),
        ("tool", '{"in_stock": true}'),
        ("user", "hello?"),
    ]
    assert turn.tool_calls == [
        {
            "type": "webhook",
            "request_id": "call_1",
            "tool_name": "check_stock",
            "params_as_json": '{"sku": "X1"}',
            "tool_has_been_called": True,
            "tool_details": None,
        }
    ]
    [result] = turn.tool_results
    assert result["result_value"] == '{"in_stock": true}'
    assert result["is_error"] is False
    assert result["tool_latency_secs"] == 0.5


async def test_a_tool_still_running_when_the_call_ends_is_recorded_as_cancelled() -> None:
    runs = ToolRuns(conversation_with_call())

    async def execute(call: ToolCall) -> ToolOutcome:
        await asyncio.sleep(10)
        return ToolOutcome("{}")

    turn = TurnRecord("agent", "", 0)
    runs.start(CALL, turn, "system", execute)
    await asyncio.sleep(0)
    await runs.close()

    [result] = turn.tool_results
    assert result["is_error"] is True
    assert result["error_type"] == "call_ended"
