"""SIP message parsing and rendering: what is read, and the precise 400s for what is not."""

from __future__ import annotations

import pytest

from telephony.sip.message import (
    MalformedSipMessageError,
    SipRequest,
    SipResponse,
    parse_message,
    render,
    uri_user,
)
from tests.unit.sip_requests import SDP_OFFER, invite, request

pytestmark = pytest.mark.unit


def test_an_invite_is_read_with_its_headers_and_body() -> None:
    message = parse_message(invite())
    assert isinstance(message, SipRequest)
    assert message.method == "INVITE"
    assert uri_user(message.uri) == "+15550001111"
    assert message.call_id == "call-1@192.0.2.10"
    assert message.cseq == (1, "INVITE")
    assert message.from_tag == "caller-tag"
    assert message.branch == "z9hG4bK-1"
    assert message.body == SDP_OFFER.encode()


def test_compact_header_names_and_folded_lines_are_understood() -> None:
    data = (
        b"OPTIONS sip:velox@198.51.100.1 SIP/2.0\r\n"
        b"v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa\r\n"
        b"f: <sip:a@192.0.2.10>;tag=1\r\n"
        b"t: <sip:velox@198.51.100.1>\r\n"
        b"i: abc\r\n"
        b"CSeq: 7\r\n  OPTIONS\r\n"
        b"l: 0\r\n\r\n"
    )
    message = parse_message(data)
    assert message.call_id == "abc"
    assert message.cseq == (7, "OPTIONS")


def test_several_vias_on_one_line_are_several_headers() -> None:
    data = invite().replace(
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport",
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport, "
        b"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb",
    )
    assert len(parse_message(data).header_values("Via")) == 2


@pytest.mark.parametrize(
    ("data", "reason", "answerable"),
    [
        (invite().replace(b"Call-ID: call-1@192.0.2.10\r\n", b""), "missing_call_id", False),
        (invite().replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE"), "bad_cseq", False),
        (invite().replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"), "cseq_method_mismatch", True),
        (invite().replace(b"Content-Length: 211", b"Content-Length: 999"), "truncated_body", True),
        (
            invite().replace(b"Content-Length: 211", b"Content-Length: ten"),
            "bad_content_length",
            True,
        ),
        (b"HELLO\r\n\r\n", "bad_start_line", False),
        (b"INVITE sip:a@b SIP/2.0\r\nVia: x", "no_header_end", False),
        (b"\xff\xfe\r\n\r\n", "not_utf8", False),
    ],
)
def test_a_malformed_message_says_why(data: bytes, reason: str, answerable: bool) -> None:
    with pytest.raises(MalformedSipMessageError) as raised:
        parse_message(data)
    assert raised.value.reason == reason
    assert raised.value.answerable is answerable


def test_the_offer_is_as_long_as_the_fixture_says() -> None:
    assert len(SDP_OFFER.encode()) == 211  # the Content-Length the cases above rewrite


def test_a_response_renders_with_a_matching_content_length() -> None:
    response = SipResponse(
        headers=[("Call-ID", "x"), ("Content-Length", "99")], body=b"abc", status=200, reason="OK"
    )
    data = render(response)
    assert data.startswith(b"SIP/2.0 200 OK\r\n")
    assert b"Content-Length: 3\r\n\r\nabc" in data
    assert b"99" not in data


def test_a_request_renders_and_reads_back_the_same() -> None:
    message = parse_message(request("BYE", to_tag="ours"))
    assert isinstance(message, SipRequest)
    again = parse_message(render(message))
    assert again == message
