"""Webhook tools in a call: offered to the model, run over HTTP when it calls one.

The calls room builds a call's `CallTools` (the agent's `prompt.tool_ids`, the secrets their
headers name, and the `WebhookSender` that speaks HTTP, refusing private addresses); the engine
never reads the database nor opens a connection itself.
Every failure (arguments that do not fit, a refused URL, a timeout, a 4xx/5xx, a body that is not
JSON, a redirect to another host) comes back to the model as a tool error it can speak about,
and is counted; none ends the call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import jsonschema_rs

from app.config.tools import WebhookToolConfig
from app.engine.tool_outcome import ToolOutcome, failed
from app.engine.webhook_request import (
    ToolArgumentsError,
    WebhookRequest,
    build_request,
    check_arguments,
    value_at,
)
from app.providers.base import ToolCall, ToolSpec

# A tool's answer is for the model to read: more than this is cut (and said to be).
MAX_RESPONSE_BYTES = 256 * 1024
MAX_RESULT_CHARS = 16_000


class WebhookSendError(Exception):
    """The request was not answered: refused before it left (`called` False) or failed on the
    way (unreachable); `error_type` names which for the transcript and the counters."""

    def __init__(self, error_type: str, message: str, *, called: bool) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.called = called


class WebhookSender(Protocol):
    """Sends a webhook tool's request; at most `max_bytes` of the answer are read."""

    async def send(self, request: WebhookRequest, max_bytes: int) -> tuple[int, bytes]: ...


class EventCounter(Protocol):
    def event(self, kind: str, **data: Any) -> None: ...

    def count(self, name: str, n: int = 1) -> None: ...


@dataclass(frozen=True, slots=True)
class WebhookTool:
    tool_id: str
    config: WebhookToolConfig


@dataclass(frozen=True, slots=True)
class CallTools:
    """The webhook tools a call may use, as the calls room loaded them."""

    webhooks: tuple[WebhookTool, ...] = ()
    secrets: dict[str, str] = field(default_factory=dict)  # secret_id → value (decrypted)
    sender: WebhookSender | None = None
    # Tools the agent names that could not be loaded (deleted, unreadable secret): said in events.
    missing: tuple[str, ...] = ()


class WebhookTools:
    """One call's webhook tools and the call's dynamic variables they read and assign."""

    def __init__(
        self,
        tools: CallTools,
        variables: dict[str, str],
        log: EventCounter,
        *,
        on_outcome: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tools = {tool.config.name: tool for tool in tools.webhooks}
        self._validators = {
            name: jsonschema_rs.validator_for(tool.config.parameters())
            for name, tool in self._tools.items()
        }
        self._secrets = tools.secrets
        self._sender = tools.sender
        self.variables = variables
        self._log = log
        self._on_outcome = on_outcome or (lambda _kind, _outcome: None)
        self._clock = clock

    def specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(name, tool.config.description, tool.config.parameters())
            for name, tool in self._tools.items()
        ]

    def handles(self, name: str) -> bool:
        return name in self._tools

    def config(self, name: str) -> WebhookToolConfig:
        return self._tools[name].config

    async def run(self, call: ToolCall) -> ToolOutcome:
        tool = self._tools[call.name]
        outcome = await self._run(tool, call)
        outcome.tool_id = tool.tool_id
        self._on_outcome("webhook", outcome.error_type or "ok")
        if outcome.is_error:
            self._log.count("tool_errors")
            self._log.event(
                "tool_error", name=call.name, error_type=outcome.error_type, result=outcome.result
            )
        return outcome

    async def _run(self, tool: WebhookTool, call: ToolCall) -> ToolOutcome:
        config = tool.config
        try:
            check_arguments(config, call.arguments, self._validators[config.name])
            request = build_request(config, call.arguments, self.variables, self._secrets)
        except ToolArgumentsError as error:
            return failed(
                "invalid_arguments",
                f"the arguments do not fit the tool {config.name!r}: {error}",
                called=False,
            )
        details = _details(request)
        if self._sender is None:
            return failed("unavailable", "webhook tools cannot be called here", called=False)
        started = self._clock()
        try:
            async with asyncio.timeout(config.timeout_secs):
                status, body = await self._sender.send(request, MAX_RESPONSE_BYTES)
        except TimeoutError:
            outcome = failed(
                "timeout",
                f"the tool {config.name!r} did not answer within {config.timeout_secs} s",
                called=True,
                latency_secs=self._clock() - started,
            )
        except WebhookSendError as error:
            outcome = failed(
                error.error_type,
                f"the tool {config.name!r}: {error}",
                called=error.called,
                latency_secs=self._clock() - started if error.called else 0.0,
            )
        else:
            outcome = self._answer(config, call, status, body, self._clock() - started)
        outcome.details = details
        return outcome

    def _answer(
        self, config: WebhookToolConfig, call: ToolCall, status: int, body: bytes, latency: float
    ) -> ToolOutcome:
        text = body[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace")
        if status >= 400:
            return failed(
                "http_error",
                f"the tool {config.name!r} answered HTTP {status}: {text[:500]}",
                called=True,
                latency_secs=latency,
            )
        if not text.strip():
            return ToolOutcome(json.dumps({"status": status}), latency_secs=latency)
        if len(body) > MAX_RESPONSE_BYTES:
            return failed(
                "response_too_large",
                f"the tool {config.name!r} answered more than {MAX_RESPONSE_BYTES} bytes",
                called=True,
                latency_secs=latency,
            )
        try:
            document = json.loads(text)
        except ValueError:
            return failed(
                "invalid_response",
                f"the tool {config.name!r} did not answer JSON: {text[:200]}",
                called=True,
                latency_secs=latency,
            )
        updates = self._assign(config, call, document)
        result = json.dumps(document, ensure_ascii=False)
        if len(result) > MAX_RESULT_CHARS:
            result = result[:MAX_RESULT_CHARS] + " …(cut)"
        return ToolOutcome(result, latency_secs=latency, variable_updates=updates)

    def _assign(
        self, config: WebhookToolConfig, call: ToolCall, document: Any
    ) -> list[dict[str, Any]]:
        """Response values into dynamic variables; `sanitize` ones taken out of the answer."""
        updates: list[dict[str, Any]] = []
        for assignment in config.assignments or []:
            try:
                value = value_at(document, assignment.value_path)
            except KeyError:
                self._log.event(
                    "tool_assignment_missing", name=config.name, path=assignment.value_path
                )
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            old = self.variables.get(assignment.dynamic_variable)
            self.variables[assignment.dynamic_variable] = text
            updates.append(
                {
                    "variable_name": assignment.dynamic_variable,
                    "old_value": old,
                    "new_value": text,
                    "updated_at": time.time(),
                    "tool_name": config.name,
                    "tool_request_id": call.id,
                }
            )
            if assignment.sanitize:
                _remove(document, assignment.value_path)
        return updates


def _details(request: WebhookRequest) -> dict[str, Any]:
    return {
        "type": "webhook",
        "method": request.method,
        "url": request.url,
        "path_params": request.path_params,
        "query_params": request.query,
        "body": json.dumps(request.body) if request.body is not None else None,
    }


def _remove(document: Any, path: str) -> None:
    *parents, last = path.split(".")
    try:
        holder = value_at(document, ".".join(parents)) if parents else document
    except KeyError:
        return
    if isinstance(holder, dict):
        holder.pop(last, None)
    elif isinstance(holder, list) and last.isdigit() and int(last) < len(holder):
        del holder[int(last)]
