"""Fuzzing the conversation-socket codec: any client frame sequence is parsed or refused with a
counted `MalformedMessage`; what we render for any text is one UTF-8 JSON frame that carries the
text back unchanged (as far as UTF-8 can carry it)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine.text import clean_text
from telephony.convai import server_events
from telephony.convai.client_events import ConversationInitiation, ConversationParser, UserMessage
from telephony.json_frames import MalformedMessage
from tests.fuzz.harness import FUZZ, case, check_reason, frame_mutants, seed_texts

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]
TARGET = "convai_codec"
STREAMS = [[line for line in seed.splitlines() if line] for seed in seed_texts("convai")]
# Any code point, lone surrogates included (a JSON "\\ud800" escape decodes to one).
_CHARS = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)
ANY_TEXT = _CHARS | st.builds(
    lambda before, surrogate, after: before + surrogate + after,
    _CHARS,
    st.sampled_from(["\ud800", "\udfff", "\ud83d"]),
    _CHARS,
)


def carried(text: str) -> str:
    """`text` as UTF-8 can carry it: each lone surrogate becomes U+FFFD."""
    return clean_text(text)


def feed(frames: list[str | bytes]) -> None:
    parser = ConversationParser()
    refused = 0
    for frame in frames:
        try:
            event = parser.parse(frame)
        except MalformedMessage as error:
            check_reason(error.reason)
            refused += 1
            continue
        if isinstance(event, ConversationInitiation):
            assert parser.initiation is event
            assert isinstance(event.text_only, bool)
    assert sum(parser.malformed.values()) == refused


@FUZZ
@given(frame_mutants(STREAMS))
def test_mutated_conversations_are_parsed_or_refused(frames: list[str | bytes]) -> None:
    with case(TARGET):
        feed(frames)


@FUZZ
@given(st.lists(st.text(max_size=200) | st.binary(max_size=50), max_size=4))
def test_random_frames_are_refused_cleanly(frames: list[str | bytes]) -> None:
    with case(TARGET):
        feed(frames)


@FUZZ
@given(ANY_TEXT, st.integers(0, 2**31))
def test_rendered_text_is_one_sendable_frame(text: str, event_id: int) -> None:
    with case(TARGET):
        frames = {
            ("agent_response_event", "agent_response"): server_events.render_agent_response(
                text, event_id=event_id
            ),
            ("user_transcription_event", "user_transcript"): server_events.render_user_transcript(
                text, event_id=event_id
            ),
            ("text_response_part", "text"): server_events.render_agent_chat_response_part(
                text, "delta", event_id=event_id
            ),
        }
        for (key, field), frame in frames.items():
            frame.encode("utf-8")  # a WebSocket text frame is UTF-8
            event = json.loads(frame)[key]
            assert event[field] == carried(text)
        json.loads(server_events.render_error(text)).get("type")


@FUZZ
@given(st.text(max_size=120))
def test_typed_text_round_trips_through_the_parser(text: str) -> None:
    with case(TARGET):
        frame = json.dumps({"type": "user_message", "text": text})
        assert ConversationParser().parse(frame) == UserMessage(text)
