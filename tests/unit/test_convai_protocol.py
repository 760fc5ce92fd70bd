"""ElevenLabs Agents conversation codec: what the official SDKs send parses, what we send they read.

Client messages are built by the installed `elevenlabs` Python SDK's own code where it has a
builder, else copied literally with the SDK or `@elevenlabs/client` line they come from. Server
messages are fed through the Python SDK's real message handler (`AsyncConversation._handle_message`)
with a fake socket, so a field-name slip shows up as a callback that never fires.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from elevenlabs.conversational_ai.conversation import (
    AgentChatResponsePartType,
    AsyncAudioInterface,
    AsyncConversation,
    AudioEventAlignment,
    ClientTools,
    ContextualUpdateClientToOrchestratorEvent,
    ConversationInitiationData,
    MultimodalMessageClientToOrchestratorEvent,
    UserActivityClientToOrchestratorEvent,
    UserMessageClientToOrchestratorEvent,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audio.formats import NAMED_FORMATS, AudioFormat, UnknownFormatNameError, format_named
from telephony.convai.client_events import (
    ClientToolResult,
    ContextualUpdate,
    ConversationInitiation,
    ConversationParser,
    Feedback,
    McpToolApprovalResult,
    MultimodalMessage,
    Pong,
    UserActivity,
    UserAudioChunk,
    UserMessage,
)
from telephony.convai.server_events import (
    AudioAlignment,
    render_agent_chat_response_part,
    render_agent_response,
    render_agent_response_correction,
    render_audio,
    render_client_tool_call,
    render_error,
    render_initiation_metadata,
    render_internal_tentative_agent_response,
    render_interruption,
    render_ping,
    render_user_transcript,
    render_vad_score,
)
from telephony.json_frames import MalformedMessage

pytestmark = pytest.mark.unit

PCM = bytes(range(256)) * 4


class FakeSocket:
    """Stands in for the SDK's websocket: records what the SDK sends back to us."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._arrived = asyncio.Event()

    async def send(self, text: str) -> None:
        self.sent.append(text)
        self._arrived.set()

    async def next_sent(self) -> str:
        await asyncio.wait_for(self._arrived.wait(), timeout=2)
        return self.sent[-1]


class RecordingAudio(AsyncAudioInterface):
    """An SDK audio interface that records what the SDK would have played."""

    def __init__(self) -> None:
        self.played: list[bytes] = []
        self.interrupts = 0

    async def start(self, input_callback: Any) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def output(self, audio: bytes) -> None:
        self.played.append(audio)

    async def interrupt(self) -> None:
        self.interrupts += 1


class Heard:
    """What the SDK's callbacks received."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def callback(self, name: str) -> Any:
        async def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def audio() -> RecordingAudio:
    return RecordingAudio()


@pytest.fixture
async def sdk(heard: Heard, audio: RecordingAudio) -> AsyncIterator[AsyncConversation]:
    """A real SDK conversation, never connected: its tools run on the test's own event loop."""
    tools = ClientTools(loop=asyncio.get_running_loop())
    conversation = AsyncConversation(
        client=None,  # type: ignore[arg-type]  # only used to build a URL, which we never do
        agent_id="agent_1",
        requires_auth=False,
        audio_interface=audio,
        client_tools=tools,
        callback_agent_response=heard.callback("agent_response"),
        callback_agent_response_correction=heard.callback("correction"),
        callback_agent_chat_response_part=heard.callback("chat_part"),
        callback_user_transcript=heard.callback("user_transcript"),
        callback_latency_measurement=heard.callback("latency"),
        callback_audio_alignment=heard.callback("alignment"),
    )
    yield conversation
    tools.stop()


async def deliver(conversation: AsyncConversation, rendered: str, ws: FakeSocket) -> None:
    """Hand one frame to the SDK the way its receive loop does (conversation.py:1364-1365)."""
    await conversation._handle_message(json.loads(rendered), ws)


# ---- client -> server: what the SDKs send ------------------------------------------------------


def test_python_sdk_audio_chunk_without_type_parses_to_decoded_audio() -> None:
    # conversation.py:1336-1340: {"user_audio_chunk": base64} with no "type".
    message = json.dumps({"user_audio_chunk": base64.b64encode(PCM).decode()})
    assert ConversationParser().parse(message) == UserAudioChunk(audio=PCM)


def test_js_client_audio_chunk_parses_to_decoded_audio() -> None:
    # VoiceConversation.ts onInputWorkletMessage: sendMessage({user_audio_chunk: base64}).
    message = json.dumps({"user_audio_chunk": base64.b64encode(b"\x01\x02").decode()})
    assert ConversationParser().parse(message) == UserAudioChunk(audio=b"\x01\x02")


def test_audio_chunk_with_an_explicit_type_is_also_accepted() -> None:
    message = json.dumps({"type": "user_audio_chunk", "user_audio_chunk": "AAE="})
    assert ConversationParser().parse(message) == UserAudioChunk(audio=b"\x00\x01")


async def test_python_sdk_initiation_parses_with_overrides_variables_and_user(heard: Heard) -> None:
    overrides = {
        "agent": {"prompt": {"prompt": "Be brief."}, "first_message": "Hi!", "language": "en"},
        "tts": {"voice_id": "voice_1"},
    }
    conversation = AsyncConversation(
        client=None,  # type: ignore[arg-type]
        agent_id="agent_1",
        user_id="caller-7",
        requires_auth=False,
        audio_interface=RecordingAudio(),
        client_tools=ClientTools(loop=asyncio.get_running_loop()),
        config=ConversationInitiationData(
            extra_body={"temperature": 0.2},
            conversation_config_override=overrides,
            dynamic_variables={"name": "Ada", "age": 36, "vip": True, "score": 0.5},
        ),
    )
    parsed = ConversationParser().parse(conversation._create_initiation_message())
    assert isinstance(parsed, ConversationInitiation)
    assert parsed.dynamic_variables == {"name": "Ada", "age": 36, "vip": True, "score": 0.5}
    assert parsed.overrides == overrides
    assert parsed.custom_llm_extra_body == {"temperature": 0.2}
    assert parsed.user_id == "caller-7"
    assert parsed.source == "python_sdk"
    assert parsed.source_version
    assert parsed.text_only is False


async def test_python_sdk_without_audio_interface_asks_for_text_only_at_the_top_level() -> None:
    # conversation.py:522-523 puts text_only directly in conversation_config_override.
    conversation = AsyncConversation(
        client=None,  # type: ignore[arg-type]
        agent_id="agent_1",
        requires_auth=False,
        client_tools=ClientTools(loop=asyncio.get_running_loop()),
    )
    parsed = ConversationParser().parse(conversation._create_initiation_message())
    assert isinstance(parsed, ConversationInitiation)
    assert parsed.overrides == {"text_only": True}
    assert parsed.text_only is True
    assert parsed.user_id is None
    assert parsed.custom_llm_extra_body == {}


def test_js_client_initiation_parses_with_nested_text_only() -> None:
    # overrides.ts constructOverrides (undefined members vanish in JSON.stringify).
    message = {
        "type": "conversation_initiation_client_data",
        "conversation_config_override": {
            "agent": {"prompt": {"prompt": "Be brief."}, "first_message": "Hi", "language": "fr"},
            "tts": {"voice_id": "voice_1", "speed": 1.1},
            "conversation": {"text_only": True},
        },
        "custom_llm_extra_body": {"top_p": 0.9},
        "dynamic_variables": {"plan": "gold"},
        "user_id": "u_1",
        "source_info": {"source": "js_sdk", "version": "0.9.0"},
    }
    parsed = ConversationParser().parse(json.dumps(message))
    assert parsed == ConversationInitiation(
        dynamic_variables={"plan": "gold"},
        overrides=message["conversation_config_override"],  # type: ignore[arg-type]
        custom_llm_extra_body={"top_p": 0.9},
        user_id="u_1",
        source="js_sdk",
        source_version="0.9.0",
    )
    assert isinstance(parsed, ConversationInitiation)
    assert parsed.text_only is True


def test_bare_initiation_parses_to_empty_defaults() -> None:
    parsed = ConversationParser().parse('{"type":"conversation_initiation_client_data"}')
    assert parsed == ConversationInitiation()


def test_second_initiation_is_rejected_and_counted() -> None:
    parser = ConversationParser()
    parser.parse('{"type":"conversation_initiation_client_data"}')
    with pytest.raises(MalformedMessage) as error:
        parser.parse('{"type":"conversation_initiation_client_data"}')
    assert error.value.reason == "duplicate_initiation"
    assert parser.malformed == {"duplicate_initiation": 1}


def test_python_sdk_user_message_parses() -> None:
    # conversation.py:1242-1244 sends json.dumps(event.to_dict()).
    message = json.dumps(UserMessageClientToOrchestratorEvent(text="Book a table").to_dict())
    assert ConversationParser().parse(message) == UserMessage(text="Book a table")


def test_user_message_with_null_text_parses_as_empty() -> None:
    message = json.dumps(UserMessageClientToOrchestratorEvent().to_dict())
    assert ConversationParser().parse(message) == UserMessage(text="")


def test_python_sdk_contextual_update_parses() -> None:
    message = json.dumps(
        ContextualUpdateClientToOrchestratorEvent(text="User is on /cart").to_dict()
    )
    assert ConversationParser().parse(message) == ContextualUpdate(text="User is on /cart")


def test_python_sdk_user_activity_parses() -> None:
    message = json.dumps(UserActivityClientToOrchestratorEvent().to_dict())
    assert ConversationParser().parse(message) == UserActivity()


def test_python_sdk_multimodal_message_parses_text_and_every_file() -> None:
    event = MultimodalMessageClientToOrchestratorEvent(text="What is this?", file_ids=["f1", "f2"])
    parsed = ConversationParser().parse(json.dumps(event.to_dict()))
    assert parsed == MultimodalMessage(text="What is this?", file_ids=("f1", "f2"))


def test_multimodal_message_with_only_the_single_file_field_parses() -> None:
    message = {"type": "multimodal_message", "file": {"type": "file_input", "file_id": "f9"}}
    assert ConversationParser().parse(json.dumps(message)) == MultimodalMessage(
        text=None, file_ids=("f9",)
    )


def test_js_client_feedback_parses() -> None:
    # BaseConversation.ts sendFeedback.
    message = {"type": "feedback", "score": "like", "event_id": 12}
    assert ConversationParser().parse(json.dumps(message)) == Feedback(event_id=12, score="like")


def test_js_client_mcp_tool_approval_parses() -> None:
    # BaseConversation.ts sendMCPToolApprovalResult.
    message = {"type": "mcp_tool_approval_result", "tool_call_id": "t1", "is_approved": False}
    assert ConversationParser().parse(json.dumps(message)) == McpToolApprovalResult("t1", False)


def test_js_client_tool_result_parses() -> None:
    # BaseConversation.ts handleClientToolCall: the result is always stringified.
    message = {
        "type": "client_tool_result",
        "tool_call_id": "c1",
        "result": "42",
        "is_error": False,
    }
    assert ConversationParser().parse(json.dumps(message)) == ClientToolResult("c1", "42", False)


def test_pong_echoing_the_event_id_as_text_still_parses() -> None:
    assert ConversationParser().parse('{"type":"pong","event_id":"7"}') == Pong(event_id=7)


def test_unknown_extra_fields_are_ignored() -> None:
    message = {"type": "pong", "event_id": 3, "sent_at": "2025-01-01", "nested": {"x": [1]}}
    assert ConversationParser().parse(json.dumps(message)) == Pong(event_id=3)


# ---- malformed frames --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b'{"user_audio_chunk":"AAE="}', "binary_frame"),
        ("not json", "bad_json"),
        (" ", "bad_json"),
        ("[1, 2]", "not_an_object"),
        ('"pong"', "not_an_object"),
        ('{"text": "hello"}', "missing_type"),
        ('{"type": "agent_response"}', "unknown_type"),
        ('{"type": ["pong"]}', "unknown_type"),
        ('{"user_audio_chunk": "not base64!"}', "bad_base64"),
        ('{"user_audio_chunk": "AAE"}', "bad_base64"),
        ('{"user_audio_chunk": 12}', "bad_field"),
        ('{"user_audio_chunk": null}', "missing_field"),
        ('{"type": "pong"}', "missing_field"),
        ('{"type": "pong", "event_id": "seven"}', "bad_field"),
        ('{"type": "pong", "event_id": true}', "bad_field"),
        ('{"type": "pong", "event_id": 1.5}', "bad_field"),
        ('{"type": "contextual_update"}', "missing_field"),
        ('{"type": "user_message", "text": 5}', "bad_field"),
        ('{"type": "client_tool_result", "result": "x", "is_error": false}', "missing_field"),
        ('{"type": "client_tool_result", "tool_call_id": "c", "is_error": false}', "missing_field"),
        (
            '{"type": "client_tool_result", "tool_call_id": "c", "result": "x", "is_error": "no"}',
            "bad_field",
        ),
        ('{"type": "feedback", "event_id": 1, "score": "meh"}', "bad_field"),
        ('{"type": "feedback", "score": "like"}', "missing_field"),
        ('{"type": "mcp_tool_approval_result", "tool_call_id": "t"}', "missing_field"),
        ('{"type": "multimodal_message", "files": ["f1"]}', "bad_field"),
        ('{"type": "multimodal_message", "files": [{"type": "file_input"}]}', "missing_field"),
        (
            '{"type": "conversation_initiation_client_data", "dynamic_variables": {"a": [1]}}',
            "bad_field",
        ),
        (
            '{"type": "conversation_initiation_client_data", "conversation_config_override": 1}',
            "bad_field",
        ),
        ('{"type": "conversation_initiation_client_data", "user_id": 7}', "bad_field"),
        ('{"type": "conversation_initiation_client_data", "dynamic_variables": []}', "bad_field"),
    ],
)
def test_malformed_frame_is_rejected_with_its_reason_and_counted(
    message: str | bytes, reason: str
) -> None:
    parser = ConversationParser()
    with pytest.raises(MalformedMessage) as error:
        parser.parse(message)
    assert error.value.reason == reason
    assert parser.malformed == {reason: 1}


def test_a_rejected_frame_does_not_stop_the_next_one_parsing() -> None:
    parser = ConversationParser()
    with pytest.raises(MalformedMessage):
        parser.parse("{")
    assert parser.parse('{"type":"user_activity"}') == UserActivity()
    assert parser.malformed == {"bad_json": 1}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
CLIENT_TYPES = st.sampled_from(
    [
        "conversation_initiation_client_data",
        "pong",
        "user_message",
        "contextual_update",
        "user_activity",
        "client_tool_result",
        "feedback",
        "multimodal_message",
        "mcp_tool_approval_result",
        "user_audio_chunk",
    ]
)
FIELDS = st.sampled_from(
    [
        "user_audio_chunk",
        "event_id",
        "text",
        "tool_call_id",
        "result",
        "is_error",
        "score",
        "files",
        "file",
        "is_approved",
        "dynamic_variables",
        "conversation_config_override",
        "custom_llm_extra_body",
        "user_id",
        "source_info",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_arbitrary_frames_only_ever_raise_malformed_message(message: str | bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        ConversationParser().parse(message)


@settings(max_examples=500, deadline=None)
@given(CLIENT_TYPES | JSON_VALUES, st.dictionaries(FIELDS, JSON_VALUES, max_size=5))
def test_plausible_messages_with_wrong_field_values_only_raise_malformed_message(
    kind: Any, fields: dict[str, Any]
) -> None:
    with contextlib.suppress(MalformedMessage):
        ConversationParser().parse(json.dumps({"type": kind, **fields}))


# ---- server -> client: what we send, read by the SDK's own handler -----------------------------


async def test_sdk_takes_the_conversation_id_from_initiation_metadata(
    sdk: AsyncConversation,
) -> None:
    await deliver(sdk, render_initiation_metadata("conv_1", "ulaw_8000", "pcm_16000"), FakeSocket())
    assert sdk._conversation_id == "conv_1"


def test_initiation_metadata_shape() -> None:
    assert json.loads(render_initiation_metadata("conv_1")) == {
        "type": "conversation_initiation_metadata",
        "conversation_initiation_metadata_event": {
            "conversation_id": "conv_1",
            "agent_output_audio_format": "pcm_16000",
            "user_input_audio_format": "pcm_16000",
        },
    }


def test_initiation_metadata_refuses_a_format_the_js_client_cannot_parse() -> None:
    with pytest.raises(UnknownFormatNameError):
        render_initiation_metadata("conv_1", agent_output_audio_format="mp3_44100_128")


async def test_sdk_plays_rendered_audio_and_reports_its_alignment(
    sdk: AsyncConversation, audio: RecordingAudio, heard: Heard
) -> None:
    alignment = AudioAlignment(("H", "i"), (0, 80), (80, 120))
    await deliver(sdk, render_audio(1, PCM, alignment), FakeSocket())
    assert audio.played == [PCM]
    assert heard.calls == [("alignment", (AudioEventAlignment(["H", "i"], [0, 80], [80, 120]),))]


async def test_sdk_plays_audio_rendered_without_alignment(
    sdk: AsyncConversation, audio: RecordingAudio, heard: Heard
) -> None:
    await deliver(sdk, render_audio(1, PCM), FakeSocket())
    assert audio.played == [PCM]
    assert heard.calls == []


def test_audio_shape() -> None:
    assert json.loads(render_audio(4, b"\x00\x01")) == {
        "type": "audio",
        "audio_event": {"audio_base_64": "AAE=", "event_id": 4},
    }


async def test_sdk_stops_playback_on_interruption_and_drops_audio_up_to_its_event_id(
    sdk: AsyncConversation, audio: RecordingAudio
) -> None:
    ws = FakeSocket()
    await deliver(sdk, render_interruption(5), ws)
    await deliver(sdk, render_audio(5, b"\x00\x00"), ws)
    await deliver(sdk, render_audio(6, b"\x01\x01"), ws)
    assert audio.interrupts == 1
    assert audio.played == [b"\x01\x01"]


async def test_sdk_reads_agent_response_correction_and_user_transcript(
    sdk: AsyncConversation, heard: Heard
) -> None:
    ws = FakeSocket()
    await deliver(sdk, render_user_transcript("What time is it?", event_id=2), ws)
    await deliver(sdk, render_agent_response("It is noon, and the sun", event_id=3), ws)
    await deliver(
        sdk, render_agent_response_correction("It is noon, and the sun", "It is noon"), ws
    )
    assert heard.calls == [
        ("user_transcript", ("What time is it?",)),
        ("agent_response", ("It is noon, and the sun",)),
        ("correction", ("It is noon, and the sun", "It is noon")),
    ]


async def test_sdk_reads_streamed_chat_response_parts(sdk: AsyncConversation, heard: Heard) -> None:
    ws = FakeSocket()
    await deliver(sdk, render_agent_chat_response_part("", "start", event_id=1), ws)
    await deliver(sdk, render_agent_chat_response_part("Hel", "delta", event_id=1), ws)
    await deliver(sdk, render_agent_chat_response_part("", "stop", event_id=1), ws)
    assert heard.calls == [
        ("chat_part", ("", AgentChatResponsePartType.START)),
        ("chat_part", ("Hel", AgentChatResponsePartType.DELTA)),
        ("chat_part", ("", AgentChatResponsePartType.STOP)),
    ]


async def test_sdk_answers_a_ping_with_a_pong_we_parse_and_reports_latency(
    sdk: AsyncConversation, heard: Heard
) -> None:
    ws = FakeSocket()
    await deliver(sdk, render_ping(17, ping_ms=42), ws)
    assert ConversationParser().parse(await ws.next_sent()) == Pong(event_id=17)
    assert heard.calls == [("latency", (42,))]


async def test_ping_without_a_measurement_keeps_the_key_so_the_sdk_does_not_fail(
    sdk: AsyncConversation, heard: Heard
) -> None:
    ws = FakeSocket()
    await deliver(sdk, render_ping(1), ws)
    assert json.loads(render_ping(1)) == {
        "type": "ping",
        "ping_event": {"event_id": 1, "ping_ms": None},
    }
    assert ConversationParser().parse(await ws.next_sent()) == Pong(event_id=1)
    assert heard.calls == []


async def test_sdk_runs_a_client_tool_and_its_result_parses(sdk: AsyncConversation) -> None:
    async def lookup(parameters: dict[str, Any]) -> str:
        return f"order {parameters['order']} shipped"

    sdk.client_tools.register("lookup_order", lookup, is_async=True)
    ws = FakeSocket()
    await deliver(sdk, render_client_tool_call("lookup_order", "call_1", {"order": "A7"}), ws)
    assert ConversationParser().parse(await ws.next_sent()) == ClientToolResult(
        tool_call_id="call_1", result="order A7 shipped", is_error=False
    )


async def test_python_sdk_tool_returning_an_object_arrives_as_json_text(
    sdk: AsyncConversation,
) -> None:
    async def lookup(parameters: dict[str, Any]) -> dict[str, Any]:
        return {"status": "shipped", "eta_days": 2}

    sdk.client_tools.register("lookup_order", lookup, is_async=True)
    ws = FakeSocket()
    await deliver(sdk, render_client_tool_call("lookup_order", "call_2", {}, event_id=9), ws)
    parsed = ConversationParser().parse(await ws.next_sent())
    assert isinstance(parsed, ClientToolResult)
    assert json.loads(parsed.result) == {"status": "shipped", "eta_days": 2}


async def test_python_sdk_tool_that_raises_arrives_as_an_error_result(
    sdk: AsyncConversation,
) -> None:
    async def lookup(parameters: dict[str, Any]) -> str:
        raise RuntimeError("order service down")

    sdk.client_tools.register("lookup_order", lookup, is_async=True)
    ws = FakeSocket()
    await deliver(sdk, render_client_tool_call("lookup_order", "call_3", {}), ws)
    assert ConversationParser().parse(await ws.next_sent()) == ClientToolResult(
        tool_call_id="call_3", result="order service down", is_error=True
    )


def test_client_tool_call_shape() -> None:
    rendered = render_client_tool_call("open_url", "call_1", {"url": "https://x"}, event_id=4)
    assert json.loads(rendered) == {
        "type": "client_tool_call",
        "client_tool_call": {
            "tool_name": "open_url",
            "tool_call_id": "call_1",
            "parameters": {"url": "https://x"},
            "event_id": 4,
        },
    }


async def test_sdk_ignores_events_it_does_not_model_without_failing(
    sdk: AsyncConversation, heard: Heard, audio: RecordingAudio
) -> None:
    ws = FakeSocket()
    for rendered in (
        render_vad_score(0.7),
        render_internal_tentative_agent_response("Maybe"),
        render_error("LLM timed out", code=1002, error_type="llm_timeout"),
    ):
        await deliver(sdk, rendered, ws)
    assert (heard.calls, audio.played, ws.sent) == ([], [], [])


def test_vad_score_shape() -> None:
    assert json.loads(render_vad_score(0.25)) == {
        "type": "vad_score",
        "vad_score_event": {"vad_score": 0.25},
    }


@pytest.mark.parametrize("score", [-0.1, 1.5, float("nan")])
def test_vad_score_outside_zero_to_one_is_refused(score: float) -> None:
    with pytest.raises(ValueError, match="probability"):
        render_vad_score(score)


def test_internal_tentative_agent_response_shape() -> None:
    assert json.loads(render_internal_tentative_agent_response("Maybe")) == {
        "type": "internal_tentative_agent_response",
        "tentative_agent_response_internal_event": {"tentative_agent_response": "Maybe"},
    }


def test_error_shape() -> None:
    assert json.loads(render_error("Bad override", code=1008, error_type="override_error")) == {
        "type": "error",
        "error_event": {"code": 1008, "message": "Bad override", "error_type": "override_error"},
    }
    assert json.loads(render_error("boom")) == {
        "type": "error",
        "error_event": {"code": 1011, "message": "boom"},
    }


def test_error_with_a_code_the_api_does_not_use_is_refused() -> None:
    with pytest.raises(ValueError, match="1008"):
        render_error("nope", code=4000)


def test_rendered_messages_are_compact_json() -> None:
    assert render_interruption(3) == '{"type":"interruption","interruption_event":{"event_id":3}}'


# ---- audio format names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pcm_8000", ("pcm16", 8000)),
        ("pcm_16000", ("pcm16", 16000)),
        ("pcm_22050", ("pcm16", 22050)),
        ("pcm_24000", ("pcm16", 24000)),
        ("pcm_44100", ("pcm16", 44100)),
        ("pcm_48000", ("pcm16", 48000)),
        ("ulaw_8000", ("mulaw", 8000)),
    ],
)
def test_audio_format_name_splits_into_encoding_and_sample_rate(
    name: str, expected: tuple[str, int]
) -> None:
    assert format_named(name) == AudioFormat(*expected)


@pytest.mark.parametrize("name", ["mp3_44100_128", "pcm_11025", "ulaw_16000", "PCM_16000", ""])
def test_unknown_audio_format_raises_a_typed_error_naming_the_choices(name: str) -> None:
    with pytest.raises(UnknownFormatNameError, match="pcm_16000"):
        format_named(name)


def test_every_known_format_is_accepted_in_initiation_metadata() -> None:
    for name in NAMED_FORMATS:
        render_initiation_metadata("conv_1", name, name)
