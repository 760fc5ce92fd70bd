"""One regression test per fuzzing finding, each the smallest input that showed it."""

from __future__ import annotations

import json

import pytest

from campaigns.windows import InvalidCallingWindowError, LocalTimeRange
from telephony.convai import server_events
from telephony.sip.message import MalformedSipMessageError, parse_message
from telephony.sip.sdp import SdpError, parse_offer
from telephony.sip.user_agent import MessageRejected, UserAgent
from tests.unit.sip_requests import SDP_OFFER, TRUNK, invite

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


# Found by test_mutated_requests_never_break_the_user_agent (the long run): a header line
# without a colon after a CSeq of one word was answered with a 400 that echoed the bad CSeq.
BROKEN_CSEQ_NOTIFY = (
    b"NOTIFY sip:velox@198.51.100.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-n1\r\n"
    b"From: <sip:+15550001111@192.0.2.10>;tag=caller-tag\r\nTo: <sip:velox@198.51.100.1>\r\n"
    b"Call-ID: call-1@192.0.2.10\r\nCSeq: 3\r\nOTIFY\r\nContent-Length: 0\r\n\r\n"
)


def test_a_request_with_an_unreadable_cseq_is_not_answered_with_it() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    events = agent.receive(BROKEN_CSEQ_NOTIFY, TRUNK, 0.0)
    assert [type(event) for event in events] == [MessageRejected]
    assert agent.datagrams() == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (invite().replace(b"CSeq: 1", "CSeq: ²".encode()), "bad_cseq"),
        (invite().replace(b"Content-Length: ", "Content-Length: ²".encode()), "bad_content_length"),
        ("SIP/2.0 ²00 OK\r\nVia: SIP/2.0/UDP x\r\n\r\n".encode(), "bad_status_line"),
    ],
)
def test_a_superscript_digit_is_a_malformed_message_not_a_crash(data: bytes, reason: str) -> None:
    # Found reading the parser while fixing the finding above (the mutations now include "²"):
    # `str.isdigit` takes "²" and `int` refuses it, so a plain ValueError escaped the parser.
    with pytest.raises(MalformedSipMessageError) as error:
        parse_message(data)
    assert error.value.reason == reason


def test_a_superscript_digit_in_sdp_is_not_a_crash() -> None:
    offer = parse_offer(SDP_OFFER.replace("a=ptime:20", "a=ptime:²").encode())
    assert offer.ptime_ms == 20
    with pytest.raises(SdpError):
        parse_offer(SDP_OFFER.replace("m=audio 40000", "m=audio ²").encode())


def test_a_superscript_digit_in_a_calling_window_is_refused() -> None:
    with pytest.raises(InvalidCallingWindowError):
        LocalTimeRange.parse("²9:00-17:00")
