"""Client tools: tools the agent's web or app client runs, asked for over the conversation.

The LLM calls one like any tool; the far end is asked to run it, and the call either waits for
the client's result (`expects_response`) or goes on at once. A result that comes too late, or
for a call nobody asked, is counted and dropped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Protocol

from app.config.agent import AgentConfig
from app.engine.transport import ConversationEvents
from app.providers.base import ToolCall, ToolSpec

EMPTY_PARAMETERS = {"type": "object", "properties": {}, "required": []}


class EventCounter(Protocol):
    def event(self, kind: str, **data: Any) -> None: ...

    def count(self, name: str, n: int = 1) -> None: ...


@dataclass(frozen=True, slots=True)
class ClientToolResult:
    result: str
    is_error: bool


class ClientTools:
    """One call's client tools and the calls waiting for their results."""

    def __init__(self, config: AgentConfig, events: ConversationEvents, log: EventCounter) -> None:
        tools = config.conversation_config.agent.prompt.client_tools()
        # A far end that cannot run them (a phone line) is never offered them.
        self._tools = {tool.name: tool for tool in tools} if events.runs_client_tools else {}
        self._events = events
        self._log = log
        self._waiting: dict[str, asyncio.Future[ClientToolResult]] = {}

    def specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(tool.name, tool.description, tool.parameters or EMPTY_PARAMETERS)
            for tool in self._tools.values()
        ]

    def handles(self, name: str) -> bool:
        return name in self._tools

    async def run(self, call: ToolCall) -> str:
        """Ask the client to run `call`; the text the LLM gets back as the tool's result."""
        tool = self._tools[call.name]
        if not tool.expects_response:
            self._events.client_tool_call(call.name, call.id, call.arguments)
            return json.dumps({"status": "sent to the client; no result is awaited"})
        future: asyncio.Future[ClientToolResult] = asyncio.get_running_loop().create_future()
        self._waiting[call.id] = future
        self._events.client_tool_call(call.name, call.id, call.arguments)
        try:
            async with asyncio.timeout(tool.response_timeout_secs):
                outcome = await future
        except TimeoutError:
            self._log.event("client_tool_timeout", name=call.name, tool_call_id=call.id)
            self._log.count("client_tool_timeouts")
            return json.dumps(
                {"error": f"the client did not answer within {tool.response_timeout_secs} s"}
            )
        finally:
            self._waiting.pop(call.id, None)
        self._log.event(
            "client_tool_result", name=call.name, tool_call_id=call.id, is_error=outcome.is_error
        )
        if outcome.is_error:
            return json.dumps({"error": outcome.result})
        return outcome.result

    def resolve(self, tool_call_id: str, result: str, is_error: bool) -> bool:
        """The client's answer to a call; False when no call is waiting for it."""
        future = self._waiting.pop(tool_call_id, None)
        if future is None or future.done():
            self._log.count("unexpected_client_tool_results")
            return False
        future.set_result(ClientToolResult(result, is_error))
        return True
