"""The official ``elevenlabs`` SDK, unmodified, gives an agent ElevenLabs' system tools
(`prompt.built_in_tools`) and reads them back as it sent them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.types import (
    AgentConfigOverrideInput,
    AgentTransferInput,
    BuiltInToolsInput,
    ConversationConfigClientOverrideInput,
    LanguagePresetInput,
    PhoneNumberTransfer,
    PhoneNumberTransferTransferDestination_Phone,
    SystemToolConfigInput,
    SystemToolConfigInputParams_EndCall,
    SystemToolConfigInputParams_LanguageDetection,
    SystemToolConfigInputParams_PlayKeypadTouchTone,
    SystemToolConfigInputParams_SkipTurn,
    SystemToolConfigInputParams_TransferToAgent,
    SystemToolConfigInputParams_TransferToNumber,
    SystemToolConfigInputParams_VoicemailDetection,
    TtsConversationalConfigOverride,
)

from app.db.session import Database
from tests.api_app import build_api_app
from tests.live_server import free_port, serve
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def sdk(database: Database, tenant_a: Tenant) -> Iterator[ElevenLabs]:
    with serve(build_api_app(database), free_port()) as url:
        yield ElevenLabs(api_key=tenant_a.api_key, base_url=url)


def built_in_tools() -> BuiltInToolsInput:
    return BuiltInToolsInput(
        end_call=SystemToolConfigInput(
            type="system", name="end_call", params=SystemToolConfigInputParams_EndCall()
        ),
        transfer_to_number=SystemToolConfigInput(
            type="system",
            name="transfer_to_number",
            params=SystemToolConfigInputParams_TransferToNumber(
                transfers=[
                    PhoneNumberTransfer(
                        transfer_destination=PhoneNumberTransferTransferDestination_Phone(
                            phone_number="+15557654321"
                        ),
                        condition="the caller asks for billing",
                    )
                ]
            ),
        ),
        skip_turn=SystemToolConfigInput(
            type="system", name="skip_turn", params=SystemToolConfigInputParams_SkipTurn()
        ),
        voicemail_detection=SystemToolConfigInput(
            type="system",
            name="voicemail_detection",
            params=SystemToolConfigInputParams_VoicemailDetection(
                voicemail_message="Please call us back."
            ),
        ),
        play_keypad_touch_tone=SystemToolConfigInput(
            type="system",
            name="play_keypad_touch_tone",
            params=SystemToolConfigInputParams_PlayKeypadTouchTone(use_out_of_band_dtmf=True),
        ),
    )


def test_sdk_gives_an_agent_system_tools_and_reads_them_back(sdk: ElevenLabs) -> None:
    ai = sdk.conversational_ai
    agent = ai.agents.create(
        name="Desk",
        conversation_config={"agent": {"prompt": {"built_in_tools": built_in_tools()}}},
    )

    fetched = ai.agents.get(agent.agent_id)

    assert fetched.conversation_config.agent is not None
    prompt = fetched.conversation_config.agent.prompt
    assert prompt is not None
    tools = prompt.built_in_tools
    assert tools is not None
    assert tools.skip_turn is not None
    assert tools.skip_turn.params.system_tool_type == "skip_turn"
    assert tools.voicemail_detection is not None
    assert tools.voicemail_detection.params.voicemail_message == "Please call us back."  # type: ignore[union-attr]
    assert tools.transfer_to_number is not None
    [transfer] = tools.transfer_to_number.params.transfers  # type: ignore[union-attr]
    assert transfer.transfer_destination.phone_number == "+15557654321"
    assert transfer.condition == "the caller asks for billing"
    assert tools.language_detection is None


def test_sdk_is_told_why_a_transfer_without_a_number_is_refused(sdk: ElevenLabs) -> None:
    ai = sdk.conversational_ai
    body = {
        "agent": {
            "prompt": {
                "built_in_tools": {
                    "transfer_to_number": {
                        "type": "system",
                        "name": "transfer_to_number",
                        "params": {
                            "system_tool_type": "transfer_to_number",
                            "transfers": [{"condition": "always"}],
                        },
                    }
                }
            }
        }
    }
    with pytest.raises(ApiError) as refused:
        ai.agents.create(name="Desk", conversation_config=body)
    assert refused.value.status_code == 422
    assert "transfers[0]" in str(refused.value.body)


def test_sdk_gives_an_agent_transfers_to_agents_and_languages(sdk: ElevenLabs) -> None:
    ai = sdk.conversational_ai
    billing = ai.agents.create(name="Billing", conversation_config={})
    tools = BuiltInToolsInput(
        transfer_to_agent=SystemToolConfigInput(
            type="system",
            name="transfer_to_agent",
            params=SystemToolConfigInputParams_TransferToAgent(
                transfers=[
                    AgentTransferInput(
                        agent_id=billing.agent_id,
                        condition="the caller asks about invoices",
                        delay_ms=200,
                        transfer_message="One moment.",
                        enable_transferred_agent_first_message=True,
                    )
                ]
            ),
        ),
        language_detection=SystemToolConfigInput(
            type="system",
            name="language_detection",
            params=SystemToolConfigInputParams_LanguageDetection(only_at_conversation_start=True),
        ),
        transfer_to_number=SystemToolConfigInput(
            type="system",
            name="transfer_to_number",
            params=SystemToolConfigInputParams_TransferToNumber(
                transfers=[
                    PhoneNumberTransfer(
                        transfer_destination=PhoneNumberTransferTransferDestination_Phone(
                            phone_number="+15557654321"
                        ),
                        condition="a person",
                        transfer_type="conference",
                    )
                ]
            ),
        ),
    )
    presets = {
        "es": LanguagePresetInput(
            overrides=ConversationConfigClientOverrideInput(
                agent=AgentConfigOverrideInput(first_message="Hola, ¿en qué le ayudo?"),
                tts=TtsConversationalConfigOverride(voice_id="spanish-voice"),
            )
        )
    }
    agent = ai.agents.create(
        name="Desk",
        conversation_config={
            "agent": {"prompt": {"built_in_tools": tools}},
            "language_presets": presets,
        },
    )

    fetched = ai.agents.get(agent.agent_id).conversation_config
    assert fetched.agent is not None
    assert fetched.agent.prompt is not None
    got = fetched.agent.prompt.built_in_tools
    assert got is not None
    assert got.transfer_to_agent is not None
    [transfer] = got.transfer_to_agent.params.transfers  # type: ignore[union-attr]
    assert (transfer.agent_id, transfer.delay_ms) == (billing.agent_id, 200)
    assert transfer.enable_transferred_agent_first_message is True
    assert got.language_detection is not None
    assert got.language_detection.params.only_at_conversation_start is True  # type: ignore[union-attr]
    assert got.transfer_to_number is not None
    [phone] = got.transfer_to_number.params.transfers  # type: ignore[union-attr]
    assert phone.transfer_type == "conference"
    assert fetched.language_presets is not None
    spanish = fetched.language_presets["es"]
    assert spanish.overrides.tts is not None
    assert spanish.overrides.tts.voice_id == "spanish-voice"
