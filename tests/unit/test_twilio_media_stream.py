"""Twilio Media Streams codec: every event parsed, every malformed frame rejected and counted."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.json_frames import MalformedMessage
from telephony.twilio.media_stream import (
    Connected,
    Dtmf,
    Mark,
    Media,
    MediaFormat,
    MediaStreamParser,
    Start,
    Stop,
    render_clear,
    render_mark,
    render_media,
)

pytestmark = pytest.mark.unit

STREAM = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA5f7a8e2b2c9d4c1b8d1e0f3a6b7c8d9e"
ACCOUNT = "AC25e16e9a716a4a1786a7c83f58e30482"

CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": ACCOUNT,
        "streamSid": STREAM,
        "callSid": CALL,
        "tracks": ["inbound"],
        "customParameters": {"agent_id": "agt_1", "call_id": "c_9"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    },
    "streamSid": STREAM,
}
AUDIO = bytes(range(160))
MEDIA = {
    "event": "media",
    "sequenceNumber": "3",
    "media": {
        "track": "inbound",
        "chunk": "1",
        "timestamp": "5",
        "payload": base64.b64encode(AUDIO).decode(),
    },
    "streamSid": STREAM,
}
DTMF = {
    "event": "dtmf",
    "streamSid": STREAM,
    "sequenceNumber": "5",
    "dtmf": {"track": "inbound_track", "digit": "1"},
}
MARK = {"event": "mark", "sequenceNumber": "4", "streamSid": STREAM, "mark": {"name": "my label"}}
STOP = {
    "event": "stop",
    "sequenceNumber": "5",
    "streamSid": STREAM,
    "stop": {"accountSid": ACCOUNT, "callSid": CALL},
}


def text(message: dict[str, Any]) -> str:
    return json.dumps(message)


def started() -> MediaStreamParser:
    parser = MediaStreamParser()
    parser.parse(text(CONNECTED))
    parser.parse(text(START))
    return parser


def with_changes(message: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    """A deep copy of `message` with the field at `path` replaced (or removed if `value` is ...)."""
    copy: dict[str, Any] = json.loads(json.dumps(message))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


def test_connected_is_parsed() -> None:
    assert MediaStreamParser().parse(text(CONNECTED)) == Connected(protocol="Call", version="1.0.0")


def test_start_is_parsed_and_remembers_the_stream() -> None:
    parser = MediaStreamParser()
    event = parser.parse(text(START))
    assert event == Start(
        stream_sid=STREAM,
        call_sid=CALL,
        account_sid=ACCOUNT,
        tracks=("inbound",),
        media_format=MediaFormat(encoding="audio/x-mulaw", sample_rate=8000, channels=1),
        custom_parameters={"agent_id": "agt_1", "call_id": "c_9"},
    )
    assert parser.stream_sid == STREAM


def test_start_without_custom_parameters_has_none() -> None:
    event = MediaStreamParser().parse(text(with_changes(START, ("start", "customParameters"), ...)))
    assert isinstance(event, Start)
    assert event.custom_parameters == {}


def test_media_is_parsed_with_its_payload_decoded() -> None:
    assert started().parse(text(MEDIA)) == Media(
        payload=AUDIO, track="inbound", chunk=1, timestamp_ms=5
    )


def test_dtmf_is_parsed() -> None:
    assert started().parse(text(DTMF)) == Dtmf(digit="1", track="inbound_track")


def test_mark_is_parsed() -> None:
    assert started().parse(text(MARK)) == Mark(name="my label")


def test_stop_is_parsed() -> None:
    assert started().parse(text(STOP)) == Stop(account_sid=ACCOUNT, call_sid=CALL)


def test_bytes_of_valid_json_are_still_a_binary_frame() -> None:
    parser = started()
    with pytest.raises(MalformedMessage) as caught:
        parser.parse(text(MEDIA).encode())
    assert caught.value.reason == "binary_frame"


def test_unknown_extra_fields_are_tolerated() -> None:
    message = with_changes(MEDIA, ("media", "future"), {"x": 1})
    message["account"] = "extra"
    assert started().parse(text(message)) == Media(
        payload=AUDIO, track="inbound", chunk=1, timestamp_ms=5
    )


MALFORMED_AFTER_START: list[tuple[str, str | bytes, str]] = [
    ("binary frame", b"\x00\x01", "binary_frame"),
    ("bad json", '{"event": "media",', "bad_json"),
    ("deeply nested json", "[" * 100_000, "bad_json"),
    ("a list", "[1, 2]", "not_an_object"),
    ("a number", "42", "not_an_object"),
    ("no event", '{"streamSid": "MZ"}', "missing_event"),
    ("unknown event", '{"event": "dance"}', "unknown_event"),
    ("media without media", text(with_changes(MEDIA, ("media",), ...)), "missing_field"),
    (
        "media without payload",
        text(with_changes(MEDIA, ("media", "payload"), ...)),
        "missing_field",
    ),
    ("payload not text", text(with_changes(MEDIA, ("media", "payload"), 7)), "bad_field"),
    ("bad base64", text(with_changes(MEDIA, ("media", "payload"), "%%%")), "bad_base64"),
    ("truncated base64", text(with_changes(MEDIA, ("media", "payload"), "AAA")), "bad_base64"),
    ("chunk not a number", text(with_changes(MEDIA, ("media", "chunk"), "one")), "bad_field"),
    ("timestamp negative", text(with_changes(MEDIA, ("media", "timestamp"), "-5")), "bad_field"),
    ("media without stream", text(with_changes(MEDIA, ("streamSid",), ...)), "missing_field"),
    (
        "media, other stream",
        text(with_changes(MEDIA, ("streamSid",), "MZx")),
        "stream_sid_mismatch",
    ),
    ("mark, other stream", text(with_changes(MARK, ("streamSid",), "MZx")), "stream_sid_mismatch"),
    ("dtmf, other stream", text(with_changes(DTMF, ("streamSid",), "MZx")), "stream_sid_mismatch"),
    ("stop, other stream", text(with_changes(STOP, ("streamSid",), "MZx")), "stream_sid_mismatch"),
    ("mark without name", text(with_changes(MARK, ("mark", "name"), ...)), "missing_field"),
    ("dtmf without digit", text(with_changes(DTMF, ("dtmf", "digit"), ...)), "missing_field"),
    ("second start", text(START), "duplicate_start"),
]


@pytest.mark.parametrize(
    ("message", "reason"),
    [pytest.param(message, reason, id=name) for name, message, reason in MALFORMED_AFTER_START],
)
def test_malformed_frame_is_rejected_with_its_reason_and_counted(
    message: str | bytes, reason: str
) -> None:
    parser = started()
    with pytest.raises(MalformedMessage) as caught:
        parser.parse(message)
    assert caught.value.reason == reason
    assert str(caught.value).startswith(reason)
    assert parser.malformed == {reason: 1}


@pytest.mark.parametrize("message", [MEDIA, MARK, DTMF, STOP], ids=lambda m: m["event"])
def test_stream_events_before_start_are_rejected(message: dict[str, Any]) -> None:
    parser = MediaStreamParser()
    parser.parse(text(CONNECTED))
    with pytest.raises(MalformedMessage, match="before start") as caught:
        parser.parse(text(message))
    assert caught.value.reason == "before_start"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (("start", "callSid"), "missing_field"),
        (("start", "mediaFormat"), "missing_field"),
        (("start", "mediaFormat", "sampleRate"), "missing_field"),
        (("start", "tracks"), "missing_field"),
    ],
    ids=lambda value: ".".join(value) if isinstance(value, tuple) else value,
)
def test_start_missing_a_required_field_is_rejected(path: tuple[str, ...], reason: str) -> None:
    message = with_changes(START, path, ...)
    parser = MediaStreamParser()
    with pytest.raises(MalformedMessage) as caught:
        parser.parse(text(message))
    assert caught.value.reason == reason
    assert parser.stream_sid is None


def test_start_naming_two_streams_is_rejected() -> None:
    parser = MediaStreamParser()
    with pytest.raises(MalformedMessage) as caught:
        parser.parse(text(with_changes(START, ("streamSid",), "MZother")))
    assert caught.value.reason == "stream_sid_mismatch"
    assert parser.stream_sid is None


def test_start_with_its_stream_only_on_the_envelope_is_accepted() -> None:
    event = MediaStreamParser().parse(text(with_changes(START, ("start", "streamSid"), ...)))
    assert isinstance(event, Start)
    assert event.stream_sid == STREAM


def test_start_with_non_text_custom_parameters_is_rejected() -> None:
    message = with_changes(START, ("start", "customParameters"), {"n": 1})
    with pytest.raises(MalformedMessage, match="customParameters"):
        MediaStreamParser().parse(text(message))


def test_rejections_are_counted_per_reason_and_parsing_continues() -> None:
    parser = started()
    for bad in (b"x", b"y", "nope", "[]"):
        with pytest.raises(MalformedMessage):
            parser.parse(bad)
    assert parser.parse(text(MARK)) == Mark(name="my label")
    assert parser.malformed == {"binary_frame": 2, "bad_json": 1, "not_an_object": 1}


def test_rendered_media_is_compact_and_round_trips_its_audio() -> None:
    rendered = render_media(STREAM, AUDIO)
    assert " " not in rendered
    message = json.loads(rendered)
    assert message == {
        "event": "media",
        "streamSid": STREAM,
        "media": {"payload": base64.b64encode(AUDIO).decode()},
    }
    # The very text json.dumps makes, for any stream id (escaped as JSON escapes it).
    for stream_sid in (STREAM, 'MZ"quoted\\back', "MZ\u2713"):
        assert render_media(stream_sid, AUDIO) == json.dumps(
            {
                "event": "media",
                "streamSid": stream_sid,
                "media": {"payload": message["media"]["payload"]},
            },
            separators=(",", ":"),
        )
    echoed = with_changes(message, ("media", "track"), "inbound")
    echoed["media"] |= {"chunk": "1", "timestamp": "0"}
    parsed = started().parse(text(echoed))
    assert isinstance(parsed, Media)
    assert parsed.payload == AUDIO


def test_rendered_mark_parses_back_to_the_same_mark() -> None:
    rendered = render_mark(STREAM, "sentence-3 ✓")
    assert json.loads(rendered) == {
        "event": "mark",
        "streamSid": STREAM,
        "mark": {"name": "sentence-3 ✓"},
    }
    assert started().parse(rendered) == Mark(name="sentence-3 ✓")


def test_rendered_clear_names_the_stream() -> None:
    assert json.loads(render_clear(STREAM)) == {"event": "clear", "streamSid": STREAM}


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=6,
    )


def _plausible_messages() -> st.SearchStrategy[dict[str, Any]]:
    """Objects shaped like Twilio messages with fields swapped for arbitrary JSON."""
    return st.fixed_dictionaries(
        {
            "event": st.sampled_from(["connected", "start", "media", "dtmf", "mark", "stop", "x"])
            | _json_values(),
        },
        optional={
            "streamSid": st.sampled_from([STREAM, "MZx"]) | _json_values(),
            "protocol": _json_values(),
            "version": _json_values(),
            "start": st.fixed_dictionaries(
                {},
                optional={
                    key: _json_values()
                    for key in (
                        "streamSid",
                        "callSid",
                        "accountSid",
                        "tracks",
                        "customParameters",
                        "mediaFormat",
                    )
                },
            )
            | _json_values(),
            "media": st.fixed_dictionaries(
                {},
                optional={
                    "payload": st.sampled_from(["AAAA", "%%", ""]) | _json_values(),
                    "track": _json_values(),
                    "chunk": _json_values(),
                    "timestamp": _json_values(),
                },
            )
            | _json_values(),
            "mark": _json_values(),
            "dtmf": _json_values(),
            "stop": _json_values(),
        },
    )


def _parses_or_rejects(parser: MediaStreamParser, message: str | bytes) -> None:
    rejected_before = parser.malformed.total()
    try:
        parser.parse(message)
    except MalformedMessage:
        assert parser.malformed.total() == rejected_before + 1
    else:
        assert parser.malformed.total() == rejected_before


@settings(max_examples=300, deadline=None)
@given(st.text() | st.binary())
def test_arbitrary_frames_never_raise_anything_but_malformed_message(message: str | bytes) -> None:
    _parses_or_rejects(started(), message)


@settings(max_examples=150, deadline=None)
@given(st.lists(_plausible_messages(), min_size=1, max_size=3))
def test_arbitrary_twilio_shaped_messages_never_raise_anything_but_malformed_message(
    messages: list[dict[str, Any]],
) -> None:
    parser = MediaStreamParser()
    for message in messages:
        _parses_or_rejects(parser, json.dumps(message))
