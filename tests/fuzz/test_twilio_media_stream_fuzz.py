"""Fuzzing the Twilio Media Streams codec: any frame sequence is parsed or refused with a
counted `MalformedMessage`, never another exception; marks we render parse back to themselves."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.json_frames import MalformedMessage
from telephony.twilio.media_stream import Mark, Media, MediaStreamParser, Start, render_mark
from tests.fuzz.harness import FUZZ, case, check_reason, frame_mutants, seed_texts

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]
TARGET = "twilio_media_stream"
STREAMS = [[line for line in seed.splitlines() if line] for seed in seed_texts("twilio")]


def feed(frames: list[str | bytes]) -> None:
    parser = MediaStreamParser()
    refused = 0
    for frame in frames:
        try:
            event = parser.parse(frame)
        except MalformedMessage as error:
            check_reason(error.reason)
            refused += 1
            continue
        if isinstance(event, Start):
            assert parser.stream_sid == event.stream_sid
    assert sum(parser.malformed.values()) == refused
    if parser.stream_sid is not None:
        assert parser.parse(render_mark(parser.stream_sid, "m-1")) == Mark("m-1")


@FUZZ
@given(frame_mutants(STREAMS))
def test_mutated_streams_are_parsed_or_refused(frames: list[str | bytes]) -> None:
    with case(TARGET):
        feed(frames)


@FUZZ
@given(st.lists(st.text(max_size=200) | st.binary(max_size=50), max_size=4))
def test_random_frames_are_refused_cleanly(frames: list[str | bytes]) -> None:
    with case(TARGET):
        feed(frames)


@FUZZ
@given(st.sampled_from(STREAMS), st.text(max_size=80))
def test_any_mark_name_round_trips(stream: list[str], name: str) -> None:
    with case(TARGET):
        parser = MediaStreamParser()
        for frame in stream:
            parser.parse(frame)
        assert parser.stream_sid is not None
        assert parser.parse(render_mark(parser.stream_sid, name)) == Mark(name)


@FUZZ
@given(st.binary(max_size=400), st.integers(0, 10**18 - 1), st.booleans())  # text: < 19 digits
def test_any_audio_payload_round_trips(audio: bytes, chunk: int, as_text: bool) -> None:
    with case(TARGET):
        parser = MediaStreamParser()
        for frame in STREAMS[0][:2]:  # connected, start
            parser.parse(frame)
        assert parser.stream_sid is not None
        number: int | str = str(chunk) if as_text else chunk
        media = {"track": "inbound", "chunk": number, "timestamp": number}
        media["payload"] = base64.b64encode(audio).decode()
        frame = json.dumps({"event": "media", "streamSid": parser.stream_sid, "media": media})
        assert parser.parse(frame) == Media(audio, "inbound", chunk, chunk)
