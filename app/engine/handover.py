"""Handing a call over on the same line: to another agent (`transfer_to_agent`) or to another of
the agent's languages (`language_detection`).

The tool checks the request and, for another agent, has the calls room load it (its settings,
providers, knowledge and tools: `AgentDirectory`); then the session prepares what can fail (the
recognizer's stream in the new language, the new prompt rendered: a failure is the tool's error,
which the model speaks about). The responder then says the transfer message in the current
voice, waits the transfer's delay, and has the session switch (`switching.py`): prompt, voice,
language, tools and knowledge from the new settings, the conversation's history kept. The new
agent then says its first message (if the transfer asks for it) or answers the caller itself.
Results are ElevenLabs' result shapes (`transfer_to_agent_success` / `_error`,
`language_detection_success`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from app.config.agent import AgentConfig
from app.config.languages import agent_languages, in_language
from app.config.system_tools import SystemTool
from app.engine.knowledge import KnowledgeSource
from app.engine.record import CallEvent, TurnRecord
from app.engine.webhook_tools import CallTools
from app.providers.base import SttStream, ToolCall, ToolSpec
from app.providers.registry import ProviderSet

TRANSFER_TO_AGENT: Final = "transfer_to_agent"
LANGUAGE_DETECTION: Final = "language_detection"
# `only_at_conversation_start`: switching is open during the caller's first turns.
OPENING_TURNS = 2


class AgentNotFoundError(LookupError):
    """No such agent in the call's organization; `reason` says which way (for the record)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CallAgent:
    """An agent ready to take over a call: its settings and what the calls room loaded for it."""

    agent_id: str
    config: AgentConfig
    providers: ProviderSet
    knowledge: KnowledgeSource | None = None
    tools: CallTools | None = None


class AgentDirectory(Protocol):
    async def load(self, agent_id: str) -> CallAgent:
        """The call's organization's agent `agent_id`, ready to take the call;
        `AgentNotFoundError` when the organization has none such."""
        ...


class EventLog(Protocol):
    turns: list[TurnRecord]
    events: list[CallEvent]

    def event(self, kind: str, **data: Any) -> None: ...

    def count(self, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Handover:
    """A switch the responder carries out once the tool has answered."""

    kind: Literal["transfer_to_agent", "language_detection"]
    config: AgentConfig
    agent_id: str
    # Another agent's own parts; None for a language switch (the call keeps its own).
    agent: CallAgent | None = None
    message: str = ""  # said first, in the current voice
    delay_s: float = 0.0
    first_message: bool = False  # the new agent then says its first message
    event: tuple[tuple[str, Any], ...] = ()
    # Prepared by the session before the tool answers: a new recognizer stream (None: the
    # call's own goes on), the system prompt and the first message, rendered.
    stt: SttStream | None = None
    prompt: str = ""
    greeting: str = ""


Prepare = Callable[[Handover], Awaitable[Handover]]


class Handovers:
    """One agent's `transfer_to_agent` and `language_detection`: what is offered, and runs."""

    def __init__(
        self,
        config: AgentConfig,
        agent_id: str,
        built_in: dict[str, SystemTool],
        directory: AgentDirectory | None,
        log: EventLog,
        prepare: Prepare | None = None,
    ) -> None:
        self._config = config
        self._agent_id = agent_id
        self._transfer = built_in.get(TRANSFER_TO_AGENT)
        self._languages = built_in.get(LANGUAGE_DETECTION)
        self._directory = directory
        self._log = log
        self._prepare = prepare

    def specs(self) -> list[ToolSpec]:
        specs: list[ToolSpec] = []
        transfers = self._transfer.params.agent_transfers() if self._transfer else []
        if self._transfer is not None and transfers and self._directory is not None:
            when = "; ".join(
                f"{number}: {t.condition or 'when asked'}" for number, t in enumerate(transfers)
            )
            specs.append(
                ToolSpec(
                    TRANSFER_TO_AGENT,
                    (self._transfer.description or _TRANSFER_DESCRIPTION)
                    + f" Agents by number, and when to use each: {when}",
                    {
                        "type": "object",
                        "properties": {
                            "agent_number": {
                                "type": "integer",
                                "enum": list(range(len(transfers))),
                                "description": "the number of the agent to transfer to",
                            },
                            "reason": _REASON,
                        },
                        "required": ["agent_number"],
                    },
                )
            )
        languages = agent_languages(self._config)
        if self._languages is not None and len(languages) > 1:
            specs.append(
                ToolSpec(
                    LANGUAGE_DETECTION,
                    (self._languages.description or _LANGUAGE_DESCRIPTION)
                    + f" Languages: {', '.join(languages)}.",
                    {
                        "type": "object",
                        "properties": {
                            "language": {"type": "string", "enum": languages},
                            "reason": _REASON,
                        },
                        "required": ["language", "reason"],
                    },
                )
            )
        return specs

    async def transfer(self, call: ToolCall) -> tuple[str, Handover | None]:
        """`transfer_to_agent`: the result for the model, and the switch if it goes ahead."""
        transfers = self._transfer.params.agent_transfers() if self._transfer else []
        chosen = call.arguments.get("agent_number", call.arguments.get("agent_id"))
        matches = [
            t
            for number, t in enumerate(transfers)
            if chosen == t.agent_id or _number(chosen) == number
        ]
        if not matches or self._directory is None:
            self._log.event("agent_transfer_refused", requested=chosen, reason="not_listed")
            self._log.count("agent_transfers_refused")
            return self._error(f"{chosen!r} is not one of the agents you may transfer to"), None
        transfer = matches[0]
        if transfer.agent_id == self._agent_id:
            return self._error("the caller is already talking to that agent"), None
        try:
            agent = await self._directory.load(transfer.agent_id)
        except AgentNotFoundError as error:
            self._log.event(
                "agent_transfer_refused", agent_id=transfer.agent_id, reason=error.reason
            )
            self._log.count("agent_transfers_refused")
            return self._error(f"there is no agent {transfer.agent_id!r} to transfer to"), None
        except Exception as error:
            self._log.event("agent_transfer_failed", agent_id=transfer.agent_id, error=repr(error))
            self._log.count("agent_transfers_failed")
            return self._error("the transfer failed; apologise and go on helping"), None
        reason = str(call.arguments.get("reason") or "")
        result = {
            "status": "success",
            "result_type": "transfer_to_agent_success",
            "from_agent": self._agent_id,
            "to_agent": transfer.agent_id,
            "condition": transfer.condition,
            "delay_ms": transfer.delay_ms,
            "transfer_message": transfer.transfer_message,
            "enable_transferred_agent_first_message": (
                transfer.enable_transferred_agent_first_message
            ),
        }
        handover = Handover(
            TRANSFER_TO_AGENT,
            agent.config,
            agent.agent_id,
            agent=agent,
            message=transfer.transfer_message or "",
            delay_s=transfer.delay_ms / 1000,
            first_message=transfer.enable_transferred_agent_first_message,
            event=(
                ("from_agent_id", self._agent_id),
                ("to_agent_id", agent.agent_id),
                ("to_agent_name", agent.config.name),
                ("condition", transfer.condition),
                ("reason", reason or None),
            ),
        )
        prepared = await self._prepared(handover)
        if prepared is None:
            return self._error("the transfer failed; apologise and go on helping"), None
        return json.dumps(result), prepared

    async def _prepared(self, handover: Handover) -> Handover | None:
        """`handover` with what can fail done (None, said in the record, when it failed)."""
        if self._prepare is None:
            return handover
        try:
            return await self._prepare(handover)
        except Exception as error:
            self._log.event("handover_failed", to=handover.kind, error=repr(error)[:300])
            self._log.count("handovers_failed")
            return None

    async def switch_language(self, call: ToolCall) -> tuple[str, Handover | None]:
        """`language_detection`: the result for the model, and the switch if there is one."""
        language = str(call.arguments.get("language") or "")
        reason = str(call.arguments.get("reason") or "")
        current = self._config.conversation_config.agent.language
        if self._past_the_opening():
            self._log.event("language_switch_refused", language=language, reason="too_late")
            self._log.count("language_switches_refused")
            error = f"the language is switched only at the start of a call; keep speaking {current}"
            return json.dumps({"status": "error", "error": error}), None
        switched = in_language(self._config, language)
        if switched is None:
            self._log.event("language_switch_refused", language=language)
            self._log.count("language_switches_refused")
            languages = ", ".join(agent_languages(self._config))
            return (
                json.dumps(
                    {
                        "status": "error",
                        "error": f"{language!r} is not one of your languages ({languages}); "
                        f"keep speaking {current}",
                    }
                ),
                None,
            )
        result = json.dumps(
            {
                "status": "success",
                "result_type": "language_detection_success",
                "reason": reason or None,
                "language": language,
            }
        )
        if language == current:
            return result, None
        prepared = await self._prepared(
            Handover(
                LANGUAGE_DETECTION,
                switched,
                self._agent_id,
                event=(("from_language", current), ("to_language", language), ("reason", reason)),
            )
        )
        if prepared is None:
            error = f"this call cannot switch to {language!r}; keep speaking {current}"
            return json.dumps({"status": "error", "error": error}), None
        return result, prepared

    def _past_the_opening(self) -> bool:
        """Whether `only_at_conversation_start` now refuses a switch: past the caller's first
        turns, with no switch made in them."""
        if self._languages is None or not self._languages.params.only_at_conversation_start:
            return False
        if any(event.kind == "language_switched" for event in self._log.events):
            return False
        caller_turns = sum(1 for turn in self._log.turns if turn.role == "user")
        return caller_turns > OPENING_TURNS

    def _error(self, message: str) -> str:
        return json.dumps(
            {
                "status": "error",
                "result_type": "transfer_to_agent_error",
                "from_agent": self._agent_id,
                "error": message,
            }
        )


def _number(value: object) -> int | None:
    """The agent's number as the model gave it (a number, or digits in a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


_REASON = {"type": "string", "description": "why, in a few words"}
_TRANSFER_DESCRIPTION = (
    "Hand the caller to another AI agent better suited to what they need; the conversation "
    "so far goes with them."
)
_LANGUAGE_DESCRIPTION = (
    "Switch the language you speak: call this when the caller speaks another of your "
    "languages or asks for one, then answer in it."
)
