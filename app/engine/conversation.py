"""The conversation the LLM sees: the rendered system prompt, the history and the tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from app.agent_config import AgentConfig
from app.providers.base import ChatMessage, ToolCall, ToolSpec

END_CALL = "end_call"
TRANSFER_CALL = "transfer_call"

_templates = SandboxedEnvironment(autoescape=False)


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


def render_template(source: str, variables: dict[str, Any]) -> tuple[str, str | None]:
    """Render in the sandbox; on a template error return the source unchanged and the error."""
    try:
        return _templates.from_string(source).render(variables), None
    except TemplateError as error:
        return source, f"{type(error).__name__}: {error}"


def builtin_tools(config: AgentConfig, *, can_transfer: bool = True) -> list[ToolSpec]:
    tools = [
        ToolSpec(
            name=END_CALL,
            description="End the call once the conversation is finished and you have said goodbye.",
            parameters={"type": "object", "properties": {}, "required": []},
        )
    ]
    destinations = config.velox.transfer_destinations
    if destinations and can_transfer:
        tools.append(
            ToolSpec(
                name=TRANSFER_CALL,
                description="Transfer the caller to a human. Destinations: "
                + "; ".join(f"{d.phone_number} ({d.description})" for d in destinations),
                parameters={
                    "type": "object",
                    "properties": {
                        "phone_number": {
                            "type": "string",
                            "enum": [d.phone_number for d in destinations],
                        },
                        "reason": {"type": "string"},
                    },
                    "required": ["phone_number"],
                },
            )
        )
    return tools


class Conversation:
    """History in LLM terms. Only what the caller heard of the agent is kept."""

    def __init__(self, system_prompt: str) -> None:
        self.messages: list[ChatMessage] = [ChatMessage("system", system_prompt)]

    @classmethod
    def for_call(
        cls, config: AgentConfig, context: CallContext, log: EventLog
    ) -> tuple[Conversation, str]:
        """The call's conversation and first message, rendered with its variables.

        A template that fails to render (say, a filter misused) is used as written and the
        error is a call event: a call is never refused over its prompt.
        """
        variables = context.template_variables(config.velox.dynamic_variables)
        agent = config.conversation_config.agent
        prompt, error = render_template(agent.prompt.prompt, variables)
        if error:
            log.event("prompt_template_error", error=error)
        first_message, error = render_template(agent.first_message, variables)
        if error:
            log.event("first_message_template_error", error=error)
        return cls(prompt), first_message

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

    def drop_last_user(self) -> str:
        """Remove the last user message (and anything after it); return its text."""
        for index in range(len(self.messages) - 1, 0, -1):
            if self.messages[index].role == "user":
                text = self.messages[index].content
                del self.messages[index:]
                return text
        return ""
