"""Qwen's Hermes-style tool calls read out of a streamed reply: text before a call is spoken as
it comes, calls split across any fragments are assembled, bad ones are reported, never raised."""

from __future__ import annotations

import json

import pytest

from app.providers.base import ToolCall
from app.providers.llama.tool_calls import (
    MalformedToolCall,
    ToolCallStreamParser,
    parse_tool_call,
)

pytestmark = pytest.mark.unit

BOOKING = '{"name": "book_appointment", "arguments": {"name": "John Smith", "day": "Tuesday"}}'


def stream(reply: str, size: int) -> tuple[list[str], ToolCallStreamParser]:
    """Feed `reply` in pieces of `size` characters; the spoken pieces and the parser."""
    parser = ToolCallStreamParser()
    spoken = [parser.feed(reply[i : i + size]) for i in range(0, len(reply), size)]
    spoken.append(parser.finish())
    return spoken, parser


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 1000])
def test_a_tagged_call_after_words_in_any_fragments(size: int) -> None:
    reply = f"Sure, I'll book that for you. <tool_call>\n{BOOKING}\n</tool_call>"

    spoken, parser = stream(reply, size)

    assert "".join(spoken) == "Sure, I'll book that for you. "
    assert [(c.name, c.arguments) for c in parser.calls] == [
        ("book_appointment", {"name": "John Smith", "day": "Tuesday"})
    ]
    assert parser.malformed == []


def test_words_before_a_call_are_released_before_the_call_is_finished() -> None:
    parser = ToolCallStreamParser()

    assert parser.feed("One moment please. <tool") == "One moment please. "
    assert parser.feed('_call>{"name": "end_') == ""
    assert parser.calls == []
    assert parser.feed('call", "arguments": {}}</tool_call>') == ""
    assert [c.name for c in parser.calls] == ["end_call"]


@pytest.mark.parametrize("size", [1, 4, 1000])
def test_a_bare_object_and_a_fenced_one_are_calls_too(size: int) -> None:
    spoken, parser = stream(BOOKING, size)
    assert "".join(spoken) == ""
    assert [c.name for c in parser.calls] == ["book_appointment"]

    fenced = 'Goodbye! ```json\n{"name": "end_call", "arguments": {}}\n```'
    spoken, parser = stream(fenced, size)
    assert "".join(spoken).strip() == "Goodbye!"
    assert [c.name for c in parser.calls] == ["end_call"]


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_several_calls_in_one_reply_each_with_its_own_id(size: int) -> None:
    transfer = {"name": "transfer_call", "arguments": {"phone_number": "+14155550100"}}
    reply = (
        f"<tool_call>\n{BOOKING}\n</tool_call>\n<tool_call>\n{json.dumps(transfer)}\n</tool_call>"
    )

    spoken, parser = stream(reply, size)

    assert "".join(spoken).strip() == ""
    assert [c.name for c in parser.calls] == ["book_appointment", "transfer_call"]
    assert parser.calls[1].arguments == {"phone_number": "+14155550100"}
    assert len({c.id for c in parser.calls}) == 2


def test_text_that_only_looks_like_a_call_is_spoken() -> None:
    reply = "Prices are {see below} and 3 < 4, the `json` way."

    spoken, parser = stream(reply, 1)

    assert "".join(spoken) == reply
    assert parser.calls == []
    assert parser.malformed == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        ('["end_call"]', "not a JSON object"),
        ('{"arguments": {}}', 'no "name"'),
        ('{"name": 7, "arguments": {}}', 'no "name"'),
        ('{"name": "end_call", "arguments": [1]}', '"arguments" is not a JSON object'),
        ('{"name": "end_call", "arguments": "{oops"}', "string that is not JSON"),
    ],
)
def test_malformed_bodies_are_reported_with_a_reason(body: str, reason: str) -> None:
    parsed = parse_tool_call(body)

    assert isinstance(parsed, MalformedToolCall)
    assert reason in parsed.reason
    assert parsed.raw == body


def test_arguments_as_a_json_string_or_missing_are_accepted() -> None:
    as_string = parse_tool_call('{"name": "x", "arguments": "{\\"a\\": 1}"}')
    missing = parse_tool_call('{"name": "end_call"}')

    assert isinstance(as_string, ToolCall)
    assert as_string.arguments == {"a": 1}
    assert isinstance(missing, ToolCall)
    assert missing.arguments == {}


def test_a_malformed_call_beside_a_good_one_loses_only_itself() -> None:
    reply = "<tool_call>{oops}</tool_call><tool_call>" + BOOKING + "</tool_call>"

    _, parser = stream(reply, 2)

    assert [c.name for c in parser.calls] == ["book_appointment"]
    assert len(parser.malformed) == 1


@pytest.mark.parametrize(
    ("reply", "readable"),
    [("<tool_call>\n" + BOOKING, True), (BOOKING[:-1], True), ('<tool_call>{"na', False)],
)
def test_a_reply_cut_off_inside_a_call_is_read_as_it_stands(reply: str, readable: bool) -> None:
    spoken, parser = stream(reply, 3)

    assert "".join(spoken) == ""
    if readable:
        assert [c.name for c in parser.calls] == ["book_appointment"]
    else:
        assert parser.calls == []
        assert len(parser.malformed) == 1


def test_a_call_missing_its_last_braces_is_closed() -> None:
    cut = '{"name": "transfer_call", "arguments": {"phone_number": "+14155550100"'

    parsed = parse_tool_call(cut + "}")
    twice = parse_tool_call(cut)

    assert isinstance(parsed, ToolCall)
    assert parsed.arguments == {"phone_number": "+14155550100"}
    assert isinstance(twice, ToolCall)
    assert twice.name == "transfer_call"


@pytest.mark.parametrize(
    "body",
    ['{"name": "x", "arguments": {"a": "b}', '{"name": "x"]', '{"name": "x", "arguments": {"a": }'],
)
def test_only_missing_closers_are_added_never_other_repairs(body: str) -> None:
    assert isinstance(parse_tool_call(body), MalformedToolCall)
