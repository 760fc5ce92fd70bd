"""Client tools: offered only to a far end that runs them; results awaited, late ones dropped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import ValidationError

from app.config.agent import AgentConfig, PromptSettings, PromptTool
from app.engine.client_tools import ClientTools
from app.engine.transport import ConversationEvents
from app.providers.base import ToolCall

pytestmark = pytest.mark.unit


class Screen(ConversationEvents):
    runs_client_tools = True

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, dict[str, Any]]] = []

    def client_tool_call(
        self, tool_name: str, tool_call_id: str, parameters: dict[str, Any]
    ) -> None:
        self.asked.append((tool_name, tool_call_id, parameters))


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.counts: dict[str, int] = {}

    def event(self, kind: str, **data: Any) -> None:
        self.events.append((kind, data))

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def config(*, wait: bool, timeout_s: int = 1) -> AgentConfig:
    agent = AgentConfig()
    agent.conversation_config.agent.prompt.tools = [
        PromptTool(name="show_map", expects_response=wait, response_timeout_secs=timeout_s),
        PromptTool(type="webhook", name="crm_lookup"),
    ]
    return agent


def test_a_phone_line_is_offered_no_client_tools() -> None:
    tools = ClientTools(config(wait=True), ConversationEvents(), Log())
    assert tools.specs() == []
    assert not tools.handles("show_map")


def test_only_client_tools_are_offered_with_an_object_schema() -> None:
    tools = ClientTools(config(wait=True), Screen(), Log())
    [spec] = tools.specs()
    assert spec.name == "show_map"
    assert spec.parameters["type"] == "object"


async def test_a_waiting_tool_returns_the_clients_result() -> None:
    screen = Screen()
    tools = ClientTools(config(wait=True), screen, Log())
    running = asyncio.create_task(tools.run(ToolCall("c1", "show_map", {"city": "Oslo"})))
    await asyncio.sleep(0)
    assert screen.asked == [("show_map", "c1", {"city": "Oslo"})]
    assert tools.resolve("c1", "shown", is_error=False)
    assert await running == "shown"


async def test_a_client_error_reaches_the_llm_as_an_error() -> None:
    tools = ClientTools(config(wait=True), Screen(), Log())
    running = asyncio.create_task(tools.run(ToolCall("c1", "show_map", {})))
    await asyncio.sleep(0)
    tools.resolve("c1", "no map on this page", is_error=True)
    assert json.loads(await running) == {"error": "no map on this page"}


async def test_a_tool_that_does_not_wait_goes_on_at_once() -> None:
    screen = Screen()
    tools = ClientTools(config(wait=False), screen, Log())
    result = await tools.run(ToolCall("c1", "show_map", {}))
    assert "no result is awaited" in result
    assert len(screen.asked) == 1


async def test_no_answer_in_time_is_a_timeout_error_and_a_late_result_is_counted() -> None:
    log = Log()
    tools = ClientTools(config(wait=True, timeout_s=1), Screen(), log)
    result = await tools.run(ToolCall("c1", "show_map", {}))
    assert "did not answer within 1 s" in json.loads(result)["error"]
    assert not tools.resolve("c1", "too late", is_error=False)
    assert log.counts == {"client_tool_timeouts": 1, "unexpected_client_tool_results": 1}


def test_tool_names_must_be_distinct_and_not_built_in() -> None:
    with pytest.raises(ValidationError, match="used twice"):
        PromptSettings(tools=[PromptTool(name="a"), PromptTool(name="a")])
    with pytest.raises(ValidationError, match="reserved"):
        PromptSettings(tools=[PromptTool(name="end_call")])


def test_tool_parameters_must_be_an_object_schema() -> None:
    with pytest.raises(ValidationError, match="object"):
        PromptTool(name="a", parameters={"type": "string"})
