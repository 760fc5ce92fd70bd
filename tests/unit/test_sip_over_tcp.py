"""SIP over a stream, sans-I/O: messages framed by Content-Length however the bytes arrive, and
a user agent on a reliable transport that re-sends nothing but still times out."""

from __future__ import annotations

import pytest

from telephony.sip.framing import FramingError, StreamFramer
from telephony.sip.message import SipRequest, parse_message
from telephony.sip.placing import Placement
from telephony.sip.user_agent import CallFailed, HangUpFinished, IncomingCall, UserAgent
from tests.unit.sip_requests import TRUNK, invite, request

pytestmark = pytest.mark.unit


def tcp_agent() -> UserAgent:
    return UserAgent(lambda remote: "198.51.100.1", 5060, "TCP")


def test_a_message_split_anywhere_comes_out_whole_once() -> None:
    data = invite()
    for cut in (1, 10, data.index(b"\r\n\r\n") + 2, len(data) - 1):
        framer = StreamFramer()
        assert framer.feed(data[:cut]) == []
        assert framer.feed(data[cut:]) == [data]
        assert framer.pending == 0


def test_coalesced_messages_and_keep_alives_come_out_one_by_one() -> None:
    first, second = invite(), request("OPTIONS", branch="z9hG4bK-2")
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n" + first + b"\r\n" + second + second[:5]) == [first, second]
    assert framer.feed(second[5:]) == [second]


def test_a_byte_at_a_time_frames_the_same() -> None:
    data = invite() + request("BYE", to_tag="t")
    framer = StreamFramer()
    out = [message for byte in data for message in framer.feed(bytes([byte]))]
    assert out == [invite(), request("BYE", to_tag="t")]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n", "missing_content_length"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -4\r\n\r\n", "bad_content_length"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nl: 99999999999\r\n\r\n", "bad_content_length"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2000\r\n\r\n", "too_large"),
        (b"X" * 1025, "too_large"),
    ],
)
def test_a_stream_that_loses_its_boundaries_is_refused(data: bytes, reason: str) -> None:
    framer = StreamFramer(max_message_bytes=1024)
    good = request("OPTIONS", branch="z9hG4bK-before")
    assert framer.feed(good + data) == [good]  # what came before the break is kept
    assert isinstance(framer.broken, FramingError)
    assert framer.broken.reason == reason
    assert framer.feed(good) == []  # nothing after it


def test_over_tcp_a_failure_answer_is_not_re_sent_but_the_ack_wait_still_ends() -> None:
    agent = tcp_agent()
    (event,) = agent.receive(invite(), TRUNK, 0.0)
    assert isinstance(event, IncomingCall)
    agent.reject(event.key, 486, 0.0)
    assert len(agent.datagrams()) == 2  # 100 and 486
    for now in (0.6, 1.6, 3.6, 7.6, 20.0):
        agent.tick(now)
        assert agent.datagrams() == []  # timer G is off
    agent.tick(33.0)
    assert agent._invites == {}  # timer H still ends the transaction


def test_over_tcp_our_bye_names_tcp_is_sent_once_and_given_up_at_timer_f() -> None:
    agent = tcp_agent()
    (event,) = agent.receive(invite(), TRUNK, 0.0)
    assert isinstance(event, IncomingCall)
    agent.ring(event.key)
    assert agent.answer(event.key, b"v=0\r\n", 0.0)
    datagrams = agent.datagrams()
    ok = parse_message(datagrams[-1][0])
    assert (ok.header("Contact") or "").endswith(";transport=tcp>")
    agent.receive(request("ACK", to_tag=ok.to_tag), TRUNK, 0.1)
    assert agent.uses(TRUNK)
    assert agent.hang_up(event.key, 1.0)
    ((data, to),) = agent.datagrams()
    bye = parse_message(data)
    assert isinstance(bye, SipRequest)
    assert to == TRUNK
    assert (bye.header("Via") or "").startswith("SIP/2.0/TCP 198.51.100.1:5060;")
    assert agent.tick(1.6) == []
    assert agent.tick(5.0) == []
    assert agent.datagrams() == []  # timer E is off
    assert agent.tick(33.1) == [HangUpFinished(event.key, answered=False)]  # timer F
    assert not agent.uses(TRUNK)


def test_over_tcp_our_invite_is_sent_once_and_given_up_at_timer_b() -> None:
    agent = tcp_agent()
    placement = Placement(
        call_id="out-1@198.51.100.1",
        from_user="+15550001111",
        to_user="+14155552671",
        target=TRUNK,
        target_host="192.0.2.10",
        offer=b"v=0\r\n",
        ring_timeout_s=60,
        transport="TCP",
    )
    agent.place(placement, 0.0)
    ((data, _),) = agent.datagrams()
    invite_sent = parse_message(data)
    assert isinstance(invite_sent, SipRequest)
    assert invite_sent.uri.endswith(";transport=tcp")
    assert (invite_sent.header("Via") or "").startswith("SIP/2.0/TCP ")
    agent.tick(0.6)
    agent.tick(1.6)
    assert agent.datagrams() == []  # timer A is off
    (failed,) = agent.tick(32.1)  # timer B
    assert isinstance(failed, CallFailed)
    assert failed.outcome.detail == "the trunk did not answer the INVITE (timer B)"
