"""Fuzzing the SIP stack. Whatever arrives on the SIP port, the user agent answers 400, drops it
or takes it: it never raises, and what it sends is always a well-formed SIP message. The parser
raises only `MalformedSipMessageError`, and what it accepts renders back to the same message;
SDP offers are read or refused with `SdpError`, and any answer we make from one parses back.
Over TCP the stream framer cuts any bytes the same however they are split, or refuses the
stream with `FramingError`."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.sip.framing import StreamFramer
from telephony.sip.message import MalformedSipMessageError, SipRequest, parse_message, render
from telephony.sip.sdp import SdpError, choose, parse_offer, render_answer
from telephony.sip.user_agent import MessageRejected, UserAgent
from tests.fuzz.harness import FUZZ, byte_mutants, case, check_reason
from tests.unit.sip_requests import TRUNK

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]
TARGET = "sip_message"
SDP_TARGET = "sip_sdp"


def check_user_agent(data: bytes, transport: str = "UDP") -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060, transport)
    events = agent.receive(data, TRUNK, 0.0)
    events += agent.tick(40.0)
    for sent, _ in agent.datagrams():
        parse_message(sent)  # raises if we ever sent something malformed
    for event in events:
        if isinstance(event, MessageRejected):
            assert event.reason


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_break_the_user_agent(data: bytes) -> None:
    with case(TARGET):
        check_user_agent(data)


@FUZZ
@given(byte_mutants("sip"))
def test_mutated_requests_never_break_the_user_agent(data: bytes) -> None:
    with case(TARGET):
        check_user_agent(data)


def without_length(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name != "Content-Length"]


@FUZZ
@given(byte_mutants("sip"))
def test_accepted_messages_render_back_to_themselves(data: bytes) -> None:
    with case(TARGET):
        try:
            message = parse_message(data)
        except MalformedSipMessageError as error:
            check_reason(error.reason)
            return
        again = parse_message(render(message))
        assert type(again) is type(message)
        assert without_length(again.headers) == without_length(message.headers)
        assert again.body == message.body
        if isinstance(message, SipRequest):
            assert isinstance(again, SipRequest)
            assert (again.method, again.uri) == (message.method, message.uri)
        else:
            assert not isinstance(again, SipRequest)
            assert (again.status, again.reason) == (message.status, message.reason)
        assert again.cseq == message.cseq


@FUZZ
@given(byte_mutants("sdp"))
def test_offers_are_read_or_refused_and_answers_parse_back(data: bytes) -> None:
    with case(SDP_TARGET):
        try:
            offer = parse_offer(data)
            answer = choose(offer)
        except SdpError as error:
            check_reason(error.reason)
            return
        assert 0 <= offer.port <= 65535
        ours = parse_offer(render_answer(answer, "198.51.100.1", 40002, 7))
        assert ours.payload_types[0] == answer.payload_type
        assert choose(ours) == answer


def framed(data: bytes, cuts: list[int]) -> tuple[list[bytes], str]:
    """The messages framed from `data` fed in pieces cut at `cuts`, and the refusal if any."""
    framer, out = StreamFramer(), []
    bounds = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(bounds):
        out += framer.feed(data[start:end])
    if framer.broken is not None:
        check_reason(framer.broken.reason)
        return out, framer.broken.reason
    return out, ""


@FUZZ
@given(st.lists(byte_mutants("sip"), min_size=1, max_size=3), st.lists(st.integers(0, 1 << 16)))
def test_a_stream_frames_the_same_however_it_is_split(
    messages: list[bytes], cuts: list[int]
) -> None:
    with case(TARGET):
        data = b"\r\n".join(messages)
        whole = framed(data, [])
        assert framed(data, cuts) == whole
        for message in whole[0]:
            assert message in data
            check_user_agent(message, "TCP")
