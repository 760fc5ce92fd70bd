"""`transfer_to_agent` and `language_detection` in Twilio-protocol calls: the scripted model
calls the tool and the call goes on, on the same line, as another agent or in another language
(prompt, voice, recognizer language), the history kept, recorded in the conversation."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.config.agent import AgentConfig, ProviderChoice
from app.db import agents as agent_queries
from app.db import organizations as org_queries
from app.providers.base import ChatMessage, TextDelta, ToolCall
from tests.audio_samples import speech_like
from tests.e2e.test_call_rules import caller_for, listen_to_greeting, running
from tests.e2e.test_system_tools import after_tool, agent_with, hear_out, tool_turn
from tests.e2e.voice_service import VoiceService
from tests.fakes.providers import Reply
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

DESK_PROMPT = "You are Desk, the front desk."
BILLING_PROMPT = "You are Billing, who answers questions about invoices."
SPANISH_PROMPT = "Eres Desk. Contesta en español."


def billing_agent() -> AgentConfig:
    agent = AgentConfig(name="Billing")
    agent.conversation_config.agent.prompt.prompt = BILLING_PROMPT
    agent.conversation_config.agent.first_message = "Billing here, how can I help?"
    agent.conversation_config.tts.voice_id = "billing-voice"
    agent.velox.providers = ProviderChoice(vad="energy", stt="scripted", llm="scripted", tts="tone")
    return agent


def desk(**built_in: dict[str, Any]) -> AgentConfig:
    agent = agent_with(**built_in)
    agent.conversation_config.agent.prompt.prompt = DESK_PROMPT
    agent.conversation_config.tts.voice_id = "desk-voice"
    return agent


def add_agent(service: VoiceService, config: AgentConfig, organization: str = "") -> str:
    with service.database.session() as db:
        organization_id = organization or service.organization_id
        return agent_queries.create_agent(db, organization_id, config).id


def transfers_to(service: VoiceService, *transfers: dict[str, Any]) -> None:
    """The running agent's `transfer_to_agent` list, set through the API."""
    tool = {
        "type": "system",
        "name": "transfer_to_agent",
        "params": {"system_tool_type": "transfer_to_agent", "transfers": list(transfers)},
    }
    built_in = {"built_in_tools": {"transfer_to_agent": tool}}
    body = {"conversation_config": {"agent": {"prompt": built_in}}}
    url = f"{service.base_url}/v1/convai/agents/{service.agent_id}"
    response = httpx.patch(url, json=body, headers=service.headers)
    assert response.status_code == 200, response.text


def system_prompt(messages: list[ChatMessage]) -> str:
    return messages[0].content


def transfer_call(number: int) -> ToolCall:
    return ToolCall("call_transfer", "transfer_to_agent", {"agent_number": number, "reason": "x"})


async def talk(service: VoiceService, said: str) -> dict[str, Any]:
    caller, conversation_id = caller_for(service)
    async with caller:
        await greeted(caller)
        await caller.play(speech_like(0.6))
        await hear_out(caller, lambda: said in " ".join(service.tts.spoken), within_s=10)
    return service.ended_conversation(conversation_id)


def events(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in body["velox"]["events"] if e["kind"] == kind]


async def greeted(caller: TwilioCaller) -> None:
    """The greeting heard to its end: its mark played and sent back, so the service counts it
    heard before the caller's first words reach it (a fixed wait after its first audio left a
    greeting still playing on a slow start, and the caller's words cut it)."""
    await listen_to_greeting(caller)
    await caller.wait_for(lambda: bool(caller.marks_echoed), 5, "the greeting's mark")


async def test_transfer_to_agent_goes_on_as_the_other_agent_with_the_history(
    tmp_path: Path,
) -> None:
    def reply(messages: list[ChatMessage]) -> Reply:
        if system_prompt(messages).startswith(BILLING_PROMPT):
            return "Your last invoice is paid."
        return [TextDelta("Let me get billing."), transfer_call(0)]

    with running(tmp_path, reply, ["Is my invoice paid?"], desk()) as service:
        billing_id = add_agent(service, billing_agent())
        transfers_to(
            service,
            {
                "agent_id": billing_id,
                "condition": "the caller asks about invoices",
                "transfer_message": "Transferring you to billing now.",
                "delay_ms": 100,
            },
        )
        body = await talk(service, "Your last invoice is paid.")
    spoken = dict(zip(service.tts.spoken, service.tts.voices, strict=True))
    assert spoken["Transferring you to billing now."] == "desk-voice"
    assert spoken["Your last invoice is paid."] == "billing-voice"
    assert "Billing here, how can I help?" not in spoken  # its first message was not asked for
    [moved] = events(body, "agent_transferred")
    assert moved["from_agent_id"] == service.agent_id
    assert moved["to_agent_id"] == billing_id
    assert moved["condition"] == "the caller asks about invoices"
    [result] = tool_turn(body, "transfer_to_agent")["tool_results"]
    assert json.loads(result["result_value"])["result_type"] == "transfer_to_agent_success"
    # The other agent's model saw its own prompt and the conversation so far.
    [asked] = [r for r in service.llm.requests if system_prompt(r).startswith(BILLING_PROMPT)]
    assert any(m.role == "user" and m.content == "Is my invoice paid?" for m in asked)
    # Each agent turn names the agent that spoke it.
    speakers = {
        t["message"]: t["agent_metadata"]["agent_id"]
        for t in body["transcript"]
        if t["role"] == "agent"
    }
    assert speakers["Hello."] == service.agent_id
    assert speakers["Transferring you to billing now."] == service.agent_id
    assert speakers["Your last invoice is paid."] == billing_id


async def test_the_transferred_agent_says_its_first_message_when_asked(tmp_path: Path) -> None:
    def reply(messages: list[ChatMessage]) -> Reply:
        if system_prompt(messages).startswith(BILLING_PROMPT):
            return "Not this."
        return [transfer_call(0)]

    with running(tmp_path, reply, ["Billing, please."], desk()) as service:
        billing_id = add_agent(service, billing_agent())
        transfers_to(
            service,
            {
                "agent_id": billing_id,
                "condition": "billing",
                "enable_transferred_agent_first_message": True,
            },
        )
        body = await talk(service, "Billing here, how can I help?")
    assert "Not this." not in service.tts.spoken  # the first message is its turn
    first = [t for t in body["transcript"] if t["message"] == "Billing here, how can I help?"]
    assert first[0]["agent_metadata"]["agent_id"] == billing_id
    # The recognizer goes on in the new agent's language, on a stream of its own.
    assert service.stt.languages == ["en", "en"]


@pytest.mark.parametrize("whose", ["unknown", "another organization's"])
async def test_a_transfer_to_an_agent_the_organization_has_not_is_a_tool_error(
    tmp_path: Path, whose: str
) -> None:
    def reply(messages: list[ChatMessage]) -> Reply:
        if after_tool(messages):
            return "Sorry, billing is not available."
        return [transfer_call(0)]

    with running(tmp_path, reply, ["Billing, please."], desk()) as service:
        target = "agent_missing"
        if whose != "unknown":
            with service.database.session() as db:
                other, _ = org_queries.create_organization(db, "Other")
                other_id = other.id
            target = add_agent(service, billing_agent(), organization=other_id)
        transfers_to(service, {"agent_id": target, "condition": "billing"})
        body = await talk(service, "Sorry, billing is not available.")
    [result] = tool_turn(body, "transfer_to_agent")["tool_results"]
    assert result["is_error"] is True
    assert json.loads(result["result_value"])["result_type"] == "transfer_to_agent_error"
    [refused] = events(body, "agent_transfer_refused")
    assert refused["reason"] == ("unknown_agent" if whose == "unknown" else "other_organization")
    assert events(body, "agent_transferred") == []
    assert "billing-voice" not in service.tts.voices
    assert body["velox"]["metrics"]["counters"]["agent_transfers_refused"] == 1


async def test_language_detection_switches_language_voice_and_prompt(tmp_path: Path) -> None:
    agent = desk(language_detection={})
    agent.conversation_config.language_presets = AgentConfig.model_validate(
        {
            "conversation_config": {
                "language_presets": {
                    "es": {
                        "overrides": {
                            "agent": {"prompt": {"prompt": SPANISH_PROMPT}, "language": None},
                            "tts": {"voice_id": "spanish-voice"},
                        }
                    }
                }
            }
        }
    ).conversation_config.language_presets

    def reply(messages: list[ChatMessage]) -> Reply:
        if system_prompt(messages).startswith(SPANISH_PROMPT):
            return "Claro, le ayudo."
        return [
            ToolCall(
                "call_language",
                "language_detection",
                {"language": "es", "reason": "the caller speaks Spanish"},
            )
        ]

    with running(tmp_path, reply, ["Hola, necesito ayuda."], agent) as service:
        body = await talk(service, "Claro, le ayudo.")
    spoken = dict(zip(service.tts.spoken, service.tts.voices, strict=True))
    assert spoken["Hello."] == "desk-voice"
    assert spoken["Claro, le ayudo."] == "spanish-voice"
    assert service.stt.languages == ["en", "es"]
    [switched] = events(body, "language_switched")
    assert switched == {
        "from_language": "en",
        "to_language": "es",
        "reason": "the caller speaks Spanish",
    }
    [result] = tool_turn(body, "language_detection")["tool_results"]
    assert json.loads(result["result_value"]) == {
        "status": "success",
        "result_type": "language_detection_success",
        "reason": "the caller speaks Spanish",
        "language": "es",
    }


async def test_a_caller_who_cuts_into_the_transfer_message_still_reaches_the_other_agent(
    tmp_path: Path,
) -> None:
    hold = "Please hold on while I transfer you to our billing team, it only takes a moment."

    def reply(messages: list[ChatMessage]) -> Reply:
        if system_prompt(messages).startswith(BILLING_PROMPT):
            return "Billing speaking, go ahead."
        return [transfer_call(0)]

    with running(tmp_path, reply, ["Invoices please.", "Hello?"], desk()) as service:
        billing_id = add_agent(service, billing_agent())
        transfers_to(service, {"agent_id": billing_id, "transfer_message": hold})
        caller, conversation_id = caller_for(service)
        async with caller:
            await greeted(caller)
            await caller.play(speech_like(0.6))
            line = asyncio.create_task(caller.silence(6))
            said = lambda: "Please hold on" in " ".join(service.tts.spoken)  # noqa: E731
            await caller.wait_for(said, 6, "the transfer message")
            await asyncio.sleep(0.8)
            line.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await line
            await caller.play(speech_like(1.0))  # cuts into the message
            await hear_out(caller, lambda: "Billing speaking, go ahead." in service.tts.spoken)
        body = service.ended_conversation(conversation_id)
    [moved] = events(body, "agent_transferred")
    assert moved["to_agent_id"] == billing_id
    turns = [(t["role"], t["message"], t["interrupted"]) for t in body["transcript"]]
    cuts = [t for t in body["transcript"] if t["interrupted"]]
    assert len(cuts) == 1, turns  # once seen with two (a full run, 2026-12-06): which?
    [cut] = cuts
    assert hold.startswith(cut["message"])  # what the caller heard of it, cut short
    assert cut["message"] != hold
    answer = [t for t in body["transcript"] if t["message"] == "Billing speaking, go ahead."]
    assert answer[0]["agent_metadata"]["agent_id"] == billing_id
