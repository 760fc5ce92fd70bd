"""`prompt.built_in_tools`: ElevenLabs' system-tool shapes accepted, checked, round-tripped."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.config.agent import AgentConfig, PromptSettings, PromptTool
from app.config.tools import WebhookToolConfig

pytestmark = pytest.mark.unit


def system(kind: str, **params: Any) -> dict[str, Any]:
    return {
        "type": "system",
        "name": kind,
        "description": "",
        "params": {"system_tool_type": kind, **params},
    }


def agent_body(built_in: dict[str, Any]) -> dict[str, Any]:
    return {"conversation_config": {"agent": {"prompt": {"built_in_tools": built_in}}}}


def test_the_elevenlabs_sdk_shape_round_trips_unchanged() -> None:
    built_in = {
        "end_call": system("end_call"),
        "language_detection": system("language_detection"),
        "transfer_to_agent": system(
            "transfer_to_agent", transfers=[{"agent_id": "agent_2", "condition": "billing"}]
        ),
        "transfer_to_number": system(
            "transfer_to_number",
            transfers=[
                {
                    "transfer_destination": {"type": "phone", "phone_number": "+15557654321"},
                    "condition": "a person",
                    "transfer_type": "conference",
                }
            ],
            enable_client_message=True,
        ),
        "skip_turn": system("skip_turn"),
        "play_keypad_touch_tone": system("play_keypad_touch_tone", use_out_of_band_dtmf=True),
        "voicemail_detection": system("voicemail_detection", voicemail_message="Call us back."),
    }
    config = AgentConfig.model_validate(agent_body(built_in))
    dumped = config.model_dump(exclude_none=True)["conversation_config"]["agent"]["prompt"]
    assert dumped["built_in_tools"] == {
        key: {
            **tool,
            "params": {
                **tool["params"],
                **({"transfers": []} if "transfers" not in tool["params"] else {}),
            },
        }
        for key, tool in built_in.items()
    }


def test_an_old_agent_body_without_built_in_tools_still_validates() -> None:
    config = AgentConfig.model_validate(
        {"velox": {"transfer_destinations": [{"phone_number": "+15557654321"}]}}
    )
    assert config.conversation_config.agent.prompt.built_in_tools.configured() == {}


def test_a_tool_under_another_kinds_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be 'skip_turn'"):
        AgentConfig.model_validate(agent_body({"skip_turn": system("end_call")}))


def test_an_unknown_system_tool_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        AgentConfig.model_validate(agent_body({"skip_turn": system("teleport")}))


def test_a_transfer_to_number_without_a_number_is_refused() -> None:
    body = agent_body(
        {"transfer_to_number": system("transfer_to_number", transfers=[{"condition": "x"}])}
    )
    with pytest.raises(ValidationError, match=r"transfers\[0\]"):
        AgentConfig.model_validate(body)


def test_a_transfer_to_a_malformed_number_is_refused() -> None:
    body = agent_body(
        {"transfer_to_number": system("transfer_to_number", transfers=[{"phone_number": "555"}])}
    )
    with pytest.raises(ValidationError, match=r"transfers\[0\]"):
        AgentConfig.model_validate(body)


@pytest.mark.parametrize("name", ["skip_turn", "voicemail_detection", "play_keypad_touch_tone"])
def test_system_tool_names_are_reserved_for_client_and_webhook_tools(name: str) -> None:
    with pytest.raises(ValidationError, match="reserved"):
        PromptSettings(tools=[PromptTool(name=name)])
    with pytest.raises(ValidationError, match="reserved"):
        WebhookToolConfig.model_validate(
            {
                "type": "webhook",
                "name": name,
                "description": "d",
                "api_schema": {"url": "https://example.com/x"},
            }
        )
