"""`transfer_to_agent` and `language_detection` without a call: their settings checked, what the
model is offered, and the answers to requests that cannot go ahead."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from app.config.agent import AgentConfig
from app.config.languages import agent_languages, in_language
from app.engine.handover import AgentNotFoundError, CallAgent, Handover, Handovers, Prepare
from app.engine.record import CallEvent, TurnRecord
from app.providers.base import ToolCall

pytestmark = pytest.mark.unit


def agent(built_in: dict[str, Any], **conversation: Any) -> AgentConfig:
    tools = {
        kind: {"type": "system", "name": kind, "params": {"system_tool_type": kind, **params}}
        for kind, params in built_in.items()
    }
    return AgentConfig.model_validate(
        {
            "conversation_config": {
                "agent": {"prompt": {"prompt": "Desk.", "built_in_tools": tools}},
                **conversation,
            }
        }
    )


SPANISH = {
    "es": {
        "overrides": {
            "agent": {"first_message": "Hola.", "prompt": {"prompt": "Eres Desk."}},
            "tts": {"voice_id": "es-voice"},
        }
    },
    "fr": {"overrides": {}, "first_message_translation": {"source_hash": "x", "text": "Bonjour."}},
}


class Log:
    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.turns: list[TurnRecord] = []
        self.counts: list[str] = []

    def event(self, kind: str, **data: Any) -> None:
        self.events.append(CallEvent(0, kind, data))

    def count(self, name: str) -> None:
        self.counts.append(name)


class Directory:
    def __init__(self, known: dict[str, AgentConfig]) -> None:
        self.known = known
        self.asked: list[str] = []

    async def load(self, agent_id: str) -> CallAgent:
        self.asked.append(agent_id)
        if agent_id not in self.known:
            raise AgentNotFoundError("unknown_agent", agent_id)
        return CallAgent(agent_id, self.known[agent_id], providers=None)  # type: ignore[arg-type]


def handovers(
    config: AgentConfig, directory: Directory | None = None, prepare: Prepare | None = None
) -> Handovers:
    built_in = config.conversation_config.agent.prompt.built_in_tools.configured()
    return Handovers(config, "agent_desk", built_in, directory, Log(), prepare)


def test_an_agent_transfer_without_an_agent_id_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"transfers\[0\]"):
        agent({"transfer_to_agent": {"transfers": [{"condition": "billing"}]}})


def test_a_language_preset_with_a_bad_code_is_refused() -> None:
    with pytest.raises(ValidationError):
        agent({}, language_presets={"not a code": {"overrides": {}}})


def test_a_preset_overrides_the_prompt_first_message_and_voice_of_a_copy() -> None:
    config = agent({}, language_presets=SPANISH)
    assert agent_languages(config) == ["en", "es", "fr"]
    spanish = in_language(config, "es")
    assert spanish is not None
    assert spanish.conversation_config.agent.language == "es"
    assert spanish.conversation_config.agent.prompt.prompt == "Eres Desk."
    assert spanish.conversation_config.agent.first_message == "Hola."
    assert spanish.conversation_config.tts.voice_id == "es-voice"
    assert config.conversation_config.agent.language == "en"  # the agent's own is untouched
    french = in_language(config, "fr")
    assert french is not None
    assert french.conversation_config.agent.first_message == "Bonjour."
    assert french.conversation_config.agent.prompt.prompt == "Desk."
    assert in_language(config, "de") is None


def test_the_model_is_offered_the_listed_agents_by_number_and_the_languages() -> None:
    config = agent(
        {
            "transfer_to_agent": {
                "transfers": [
                    {"agent_id": "agent_billing", "condition": "invoices"},
                    {"agent_id": "agent_sales", "condition": "buying"},
                ]
            },
            "language_detection": {},
        },
        language_presets=SPANISH,
    )
    transfer, language = handovers(config, Directory({})).specs()
    assert transfer.parameters["properties"]["agent_number"]["enum"] == [0, 1]
    assert "0: invoices; 1: buying" in transfer.description
    assert language.parameters["properties"]["language"]["enum"] == ["en", "es", "fr"]


def test_no_language_detection_is_offered_to_an_agent_of_one_language() -> None:
    assert handovers(agent({"language_detection": {}})).specs() == []


async def test_an_agent_not_listed_is_refused_without_looking_it_up() -> None:
    directory = Directory({"agent_sales": AgentConfig()})
    tools = handovers(
        agent({"transfer_to_agent": {"transfers": [{"agent_id": "agent_billing"}]}}), directory
    )
    text, handover = await tools.transfer(
        ToolCall("c1", "transfer_to_agent", {"agent_id": "agent_sales"})
    )
    assert handover is None
    assert directory.asked == []
    assert json.loads(text) == {
        "status": "error",
        "result_type": "transfer_to_agent_error",
        "from_agent": "agent_desk",
        "error": "'agent_sales' is not one of the agents you may transfer to",
    }


async def test_a_listed_agent_goes_ahead_with_its_message_and_delay() -> None:
    billing = AgentConfig(name="Billing")
    transfers = [{"agent_id": "agent_billing", "delay_ms": 250, "transfer_message": "One moment."}]
    tools = handovers(
        agent({"transfer_to_agent": {"transfers": transfers}}),
        Directory({"agent_billing": billing}),
    )
    text, handover = await tools.transfer(
        ToolCall("c1", "transfer_to_agent", {"agent_number": "0"})
    )
    assert handover is not None
    assert (handover.agent_id, handover.message, handover.delay_s) == (
        "agent_billing",
        "One moment.",
        0.25,
    )
    assert handover.config is billing
    assert json.loads(text)["to_agent"] == "agent_billing"


async def test_a_language_the_agent_does_not_speak_is_refused() -> None:
    tools = handovers(agent({"language_detection": {}}, language_presets=SPANISH))
    text, handover = await tools.switch_language(
        ToolCall("c1", "language_detection", {"language": "de", "reason": "German"})
    )
    assert handover is None
    assert "keep speaking en" in json.loads(text)["error"]
    same, no_switch = await tools.switch_language(
        ToolCall("c2", "language_detection", {"language": "en", "reason": "English"})
    )
    assert no_switch is None
    assert json.loads(same)["status"] == "success"


async def test_a_switch_that_cannot_be_prepared_is_the_tools_error() -> None:
    async def cannot_hear(handover: Handover) -> Handover:
        raise RuntimeError("Whisper tiny.en understands English only, not 'es'")

    log = Log()
    config = agent({"language_detection": {}}, language_presets=SPANISH)
    built_in = config.conversation_config.agent.prompt.built_in_tools.configured()
    tools = Handovers(config, "agent_desk", built_in, None, log, cannot_hear)
    text, handover = await tools.switch_language(
        ToolCall("c1", "language_detection", {"language": "es", "reason": "Spanish"})
    )
    assert handover is None
    assert json.loads(text) == {
        "status": "error",
        "error": "this call cannot switch to 'es'; keep speaking en",
    }
    [event] = log.events
    assert event.kind == "handover_failed"
    assert "English only" in event.data["error"]
    assert log.counts == ["handovers_failed"]


async def test_only_at_the_start_a_switch_is_refused_after_the_callers_second_turn() -> None:
    log = Log()
    config = agent(
        {"language_detection": {"only_at_conversation_start": True}}, language_presets=SPANISH
    )
    built_in = config.conversation_config.agent.prompt.built_in_tools.configured()
    tools = Handovers(config, "agent_desk", built_in, None, log)
    call = ToolCall("c1", "language_detection", {"language": "es", "reason": "Spanish"})
    log.turns = [TurnRecord("user", "Hello", 0), TurnRecord("user", "Hola", 1)]
    _, early = await tools.switch_language(call)
    assert early is not None
    log.turns.append(TurnRecord("user", "Necesito ayuda", 2))
    text, late = await tools.switch_language(call)
    assert late is None
    assert "only at the start of a call" in json.loads(text)["error"]
    log.events.append(CallEvent(0, "language_switched", {}))
    _, after_a_switch = await tools.switch_language(call)
    assert after_a_switch is not None
