"""Fuzzing the SIP stack. Whatever arrives on the SIP port, the user agent answers 400, drops it
or takes it: it never raises, and what it sends is always a well-formed SIP message. The parser
raises only `MalformedSipMessageError`, and what it accepts renders back to the same message;
SDP offers are read or refused with `SdpError`, and any answer we make from one parses back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.sip.message import MalformedSipMessageError, SipRequest, parse_message, render
from telephony.sip.sdp import SdpError, choose, parse_offer, render_answer
from telephony.sip.user_agent import MessageRejected, UserAgent
from tests.fuzz.harness import FUZZ, byte_mutants, case, check_reason
from tests.unit.sip_requests import TRUNK

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]
TARGET = "sip_message"
SDP_TARGET = "sip_sdp"


def check_user_agent(data: bytes) -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
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
