"""One regression test per fuzzing finding, each the smallest input that showed it."""

from __future__ import annotations

import json

import pytest

from telephony.convai import server_events
from telephony.sip.message import MalformedSipMessageError, parse_message
from telephony.sip.user_agent import MessageRejected, UserAgent
from tests.unit.sip_requests import TRUNK

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]


def test_a_lone_surrogate_in_agent_text_still_makes_a_sendable_frame() -> None:
    # Found by test_rendered_text_is_one_sendable_frame: a JSON "\ud800" escape from an LLM or
    # a tool decodes to a lone surrogate, and the frame then failed to encode as UTF-8 on send.
    frame = server_events.render_agent_response("ok \ud800 then", event_id=3)
    frame.encode("utf-8")
    assert json.loads(frame)["agent_response_event"]["agent_response"] == "ok \ufffd then"


# Found by test_mutated_requests_never_break_the_user_agent: a request with an unreadable Via
# (here split by a comma into "S" and "P/2.0/UDP ...") and another fault was answered with a 400
# that echoed the unreadable Via, a message no SIP peer (ours included) can read.
BROKEN_VIA_OPTIONS = (
    b"OPTIONS sip:198.51.100.1 SIP/2.0\r\nv: S,P/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-77\r\n"
    b"f: <sip:probe@192.0.2.10>;tag=p1\r\nt: <sip:198.51.100.1>\r\ni: opt-1\r\n"
    b"CSeq: 9 OPTIONS\r\nMa\r\nForwards: 70\r\nl: 0\r\n\r\n"
)


def test_a_request_with_an_unreadable_via_is_dropped_not_answered() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    events = agent.receive(BROKEN_VIA_OPTIONS, TRUNK, 0.0)
    assert [type(event) for event in events] == [MessageRejected]
    assert isinstance(events[0], MessageRejected)
    assert not events[0].answered
    assert agent.datagrams() == []
    with pytest.raises(MalformedSipMessageError) as error:
        parse_message(BROKEN_VIA_OPTIONS)
    assert not error.value.answerable


def test_a_bare_carriage_return_inside_a_header_value_is_refused() -> None:
    # Found with the Via above: "Via: S\rP/2.0/UDP ..." was read as one value holding a CR, and
    # echoed, so that the next reader saw a line break where we saw none.
    via = b"v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\rX: P"
    data = BROKEN_VIA_OPTIONS.replace(b"v: S,P", via)
    with pytest.raises(MalformedSipMessageError) as error:
        parse_message(data.replace(b"Ma\r\nForwards", b"Max-Forwards"))
    assert error.value.reason == "bad_header"
