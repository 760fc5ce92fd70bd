"""The conversation the LLM sees: the rendered system prompt, the history and the tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from app.config.agent import (
    MESSAGE_MAX_CHARS,
    PROMPT_MAX_CHARS,
    AgentConfig,
    template_syntax_problem,
)
from app.engine.templating import Rendered, has_template_syntax, render_template, shared_renderer
from app.providers.base import ChatMessage, ToolCall

END_CALL = "end_call"
TRANSFER_CALL = "transfer_call"


class EventLog(Protocol):
    def event(self, kind: str, **data: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who and what a call is about; the system variables of the prompt template."""

    call_id: str
    organization_id: str
    agent_id: str
    caller_number: str = ""
    called_number: str = ""
    provider_call_sid: str = ""
    channel: str = ""  # how the caller reached the agent: twilio, sip, websocket
    dynamic_variables: dict[str, str] = field(default_factory=dict)

    def template_variables(self, defaults: dict[str, str]) -> dict[str, Any]:
        return {
            **defaults,
            **self.dynamic_variables,
            "system__caller_id": self.caller_number,
            "system__called_number": self.called_number,
            "system__call_sid": self.provider_call_sid,
            "system__conversation_id": self.call_id,
            "system__agent_id": self.agent_id,
            "system__time_utc": datetime.now(UTC).strftime("%A, %d %B %Y %H:%M UTC"),
        }


class Conversation:
    """History in LLM terms. Only what the caller heard of the agent is kept."""

    def __init__(self, system_prompt: str) -> None:
        self.messages: list[ChatMessage] = [ChatMessage("system", system_prompt)]

    def set_system_prompt(self, prompt: str) -> None:
        self.messages[0] = ChatMessage("system", prompt)

    def add_user(self, text: str) -> None:
        self.messages.append(ChatMessage("user", text))

    def add_agent(self, text: str, tool_calls: tuple[ToolCall, ...] = ()) -> None:
        if text or tool_calls:
            self.messages.append(ChatMessage("assistant", text, tool_calls=tool_calls))

    def add_context(self, text: str) -> None:
        """Background information from the client: for the agent to know, not to answer."""
        self.messages.append(ChatMessage("system", f"Context update: {text}"))

    def add_tool_result(self, call: ToolCall, result: str) -> None:
        self.messages.append(ChatMessage("tool", result, tool_call_id=call.id))

    def place_tool_result(self, call: ToolCall, result: str) -> None:
        """The result right after the message that called the tool (and its other results),
        wherever the history has got to since (a barge-in may have added turns)."""
        for index in range(len(self.messages) - 1, 0, -1):
            if any(c.id == call.id for c in self.messages[index].tool_calls):
                at = index + 1
                while at < len(self.messages) and self.messages[at].role == "tool":
                    if self.messages[at].tool_call_id == call.id:
                        self.messages[at] = ChatMessage("tool", result, tool_call_id=call.id)
                        return
                    at += 1
                self.messages.insert(at, ChatMessage("tool", result, tool_call_id=call.id))
                return
        # The call was taken out of the history (its turn was taken back): nothing to answer.

    def withdraw(self, calls: list[ToolCall]) -> None:
        """Take `calls` and their results out of the history, as if never made."""
        ids = {call.id for call in calls}
        kept: list[ChatMessage] = []
        for message in self.messages:
            if message.role == "tool" and message.tool_call_id in ids:
                continue
            if message.tool_calls and ids & {c.id for c in message.tool_calls}:
                left = tuple(c for c in message.tool_calls if c.id not in ids)
                if not left and not message.content:
                    continue
                message = ChatMessage(message.role, message.content, tool_calls=left)
            kept.append(message)
        self.messages[:] = kept

    def drop_last_user(self) -> str:
        """Remove the last user message (and anything after it); return its text."""
        for index in range(len(self.messages) - 1, 0, -1):
            if self.messages[index].role == "user":
                text = self.messages[index].content
                del self.messages[index:]
                return text
        return ""


async def render_call_templates(
    config: AgentConfig, context: CallContext, log: EventLog
) -> tuple[str, str]:
    """The call's system prompt and first message, rendered with its variables.

    A prompt that fails to render is used as written (the model still learns its role);
    a first message that fails is replaced by the agent's fallback message, never spoken
    as raw template source. Either failure is a call event; a call is never refused over
    its templates. A prompt rendered past the limit is cut there, with an event.
    """
    variables = context.template_variables(config.velox.dynamic_variables)
    agent = config.conversation_config.agent
    prompt = await render_template(agent.prompt.prompt, variables, PROMPT_MAX_CHARS)
    text = prompt.text
    if prompt.error:
        log.event("prompt_template_error", error=prompt.error)
        text = agent.prompt.prompt
    if len(text) > PROMPT_MAX_CHARS:
        log.event("prompt_truncated", characters=len(text), kept=PROMPT_MAX_CHARS)
        text = text[:PROMPT_MAX_CHARS]
    first = await render_first_message(config, context)
    if first.error:
        log.event("first_message_template_error", error=first.error)
    return text, first.text


async def render_first_message(config: AgentConfig, context: CallContext) -> Rendered:
    """The call's first message; the agent's fallback message (and the error) if it fails."""
    rendered = await render_template(
        config.conversation_config.agent.first_message,
        context.template_variables(config.velox.dynamic_variables),
        MESSAGE_MAX_CHARS,
    )
    if rendered.error:
        return Rendered(config.velox.fallback_message, rendered.error)
    return rendered


# A call's system variables, as a trial render at save time sees them.
SAMPLE_CONTEXT = CallContext(
    call_id="conv_0123456789abcdef",
    organization_id="org_sample",
    agent_id="agent_sample",
    caller_number="+15550100000",
    called_number="+15550100001",
    provider_call_sid="CA0123456789abcdef0123456789abcdef",
    channel="twilio",
)


def template_problems(config: AgentConfig) -> list[tuple[tuple[str, ...], str]]:
    """Where the agent's templates fail a trial render (field path, what went wrong).

    Run when an agent is saved, so a template that errors, overruns its time or memory, or
    renders too long with the agent's own variable defaults is refused then, with the field
    named, instead of failing every call. Blocks: call it from a worker thread.
    """
    variables = SAMPLE_CONTEXT.template_variables(config.velox.dynamic_variables)
    agent = config.conversation_config.agent
    at = ("conversation_config", "agent")
    fields: tuple[tuple[tuple[str, ...], str, int], ...] = (
        ((*at, "prompt", "prompt"), agent.prompt.prompt, PROMPT_MAX_CHARS),
        ((*at, "first_message"), agent.first_message, MESSAGE_MAX_CHARS),
    )
    problems: list[tuple[tuple[str, ...], str]] = []
    for path, source, max_chars in fields:
        if not has_template_syntax(source):
            continue
        rendered = shared_renderer().render_blocking(source, variables, max_chars)
        if rendered.error:
            problems.append((path, f"the template fails to render: {rendered.error}"))
    return problems


def preview_template(source: str, dynamic_variables: dict[str, str], max_chars: int) -> Rendered:
    """`source` as a call would render it: the sample call's system variables and these dynamic
    variables; the error an agent saved with it would be refused with, if any. Blocks."""
    problem = template_syntax_problem(source)
    if problem is not None:
        return Rendered("", problem)
    variables = SAMPLE_CONTEXT.template_variables(dynamic_variables)
    return shared_renderer().render_blocking(source, variables, max_chars)


def sample_system_variables() -> dict[str, str]:
    """The system variables (`system__…`) a preview renders with."""
    return {
        name: str(value)
        for name, value in SAMPLE_CONTEXT.template_variables({}).items()
        if name.startswith("system__")
    }
