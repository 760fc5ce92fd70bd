"""The part of a response that runs the tools the model called (mixed into `Responder`, whose
state it reads and changes): each call run once and shielded from barge-in (`tool_runs.py`),
a spoken filler when a webhook is slow, and each tool sent where it lives: the webhook tools,
the system tools (which may end the turn or hand the call over), the client's tools."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from app.engine.response import fixed_text
from app.engine.tool_outcome import ToolKind, ToolOutcome, from_text

if TYPE_CHECKING:
    from app.config.agent import AgentConfig
    from app.engine.client_tools import ClientTools
    from app.engine.handover import Handover
    from app.engine.record import TurnRecord
    from app.engine.response import AgentResponse, ResponseResult
    from app.engine.system_tools import SystemTools
    from app.engine.tool_runs import ToolRuns
    from app.engine.transcript import TranscriptLog
    from app.engine.webhook_tools import WebhookTools
    from app.providers.base import LlmEvent, ToolCall

FILLER_TURN = "t"  # the turn id's prefix of a line said while a tool works


class ToolTurns:
    if TYPE_CHECKING:
        _config: AgentConfig
        _log: TranscriptLog
        _tool_runs: ToolRuns
        _webhooks: WebhookTools | None
        _client_tools: ClientTools
        _system_tools: SystemTools
        _turn_over: bool
        _withdrawn: list[ToolCall]
        _handover: Handover | None
        _counter: int

        async def _speak(
            self, turn_id: str, events: AsyncIterator[LlmEvent], *, from_llm: bool
        ) -> tuple[AgentResponse, ResponseResult]: ...

        _log_agent: Callable[[AgentResponse, ResponseResult, str, float | None], None]

    async def _call_tool(self, call: ToolCall, turn: TurnRecord | None, number: int) -> None:
        """Run a tool once, shielded from barge-in; a slow webhook gets a spoken filler (in the
        response numbered `number`)."""
        webhooks = self._webhooks
        config = webhooks.config(call.name) if webhooks and webhooks.handles(call.name) else None
        mode = config.execution_mode if config is not None else None
        task = self._tool_runs.start(
            call,
            turn,
            _kind(call.name, config is not None, self._client_tools.handles(call.name)),
            self._execute_tool,
            background=mode == "async",
        )
        if mode == "async":
            return
        speech = (config.pre_tool_speech or "auto") if config is not None else "off"
        if speech == "force":
            await self._speak_filler(number)
        elif speech == "auto":
            after_s = self._config.velox.tool_filler_after_ms / 1000
            done, _ = await asyncio.wait({task}, timeout=after_s)
            if not done:
                await self._speak_filler(number)
        await asyncio.shield(task)

    async def _speak_filler(self, number: int) -> None:
        """A line while a tool works; heard, logged, and kept out of the model's history."""
        text = self._config.velox.tool_filler_message
        if not text:
            return
        try:
            response, result = await self._speak(
                f"{FILLER_TURN}{number}.{self._counter}", fixed_text(text), from_llm=False
            )
        except Exception as error:
            self._log.event("provider_error", role="tts", error=repr(error), turn="tool_filler")
            return
        self._log_agent(response, result, "tool_filler", None)

    async def _execute_tool(self, call: ToolCall) -> ToolOutcome:
        webhooks = self._webhooks
        if webhooks is not None and webhooks.handles(call.name):
            self._log.event("tool_call", name=call.name, arguments=call.arguments)
            return await webhooks.run(call)
        return from_text(await self._run_tool(call))

    async def _run_tool(self, call: ToolCall) -> str:
        if self._system_tools.handles(call.name):
            outcome = await self._system_tools.run(call)
            self._turn_over = self._turn_over or outcome.turn_over
            if outcome.withdrawn:
                self._withdrawn.append(call)
            self._handover = outcome.handover or self._handover
            return outcome.text
        self._log.event("tool_call", name=call.name, arguments=call.arguments)
        if self._client_tools.handles(call.name):
            return await self._client_tools.run(call)
        self._log.count("unknown_tool_calls")
        self._withdrawn.append(call)  # a tool it made up: it answers in words instead
        return json.dumps({"error": f"unknown tool {call.name!r}"})


def _kind(name: str, webhook: bool, client: bool) -> ToolKind:
    if webhook:
        return "webhook"
    if client:
        return "client"
    return "system"
