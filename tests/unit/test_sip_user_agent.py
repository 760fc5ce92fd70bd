"""The SIP user agent, sans-I/O: datagrams in, datagrams and call events out, on a fake clock."""

from __future__ import annotations

import pytest

from telephony.sip.message import SipRequest, SipResponse, parse_message
from telephony.sip.transactions import Address
from telephony.sip.user_agent import (
    CallConfirmed,
    CallEnded,
    HangUpFinished,
    IncomingCall,
    MessageRejected,
    UserAgent,
)
from tests.unit.sip_requests import TRUNK, invite, request

pytestmark = pytest.mark.unit

ANSWER_SDP = b"v=0\r\n"


def user_agent() -> UserAgent:
    return UserAgent(lambda remote: "198.51.100.1", 5060)


def sent(agent: UserAgent) -> list[tuple[SipResponse, Address]]:
    """What the agent sent: responses (and our BYE, which the tests look at as a request)."""
    return [(parse_message(data), to) for data, to in agent.datagrams()]  # type: ignore[misc]


def incoming(agent: UserAgent, data: bytes, now: float = 0.0) -> IncomingCall:
    (event,) = agent.receive(data, TRUNK, now)
    assert isinstance(event, IncomingCall)
    return event


def statuses(agent: UserAgent) -> list[int]:
    return [message.status for message, _ in sent(agent)]


def answered_call(agent: UserAgent, now: float = 0.0) -> str:
    event = incoming(agent, invite(), now)
    agent.ring(event.key)
    assert agent.answer(event.key, ANSWER_SDP, now)
    agent.datagrams()
    return event.key


def our_tag(agent: UserAgent) -> str:
    key = answered_call(agent)
    return agent._dialogs[key].local_tag


def test_an_invite_is_answered_100_trying_at_once_and_announced_once() -> None:
    agent = user_agent()
    events = agent.receive(invite(extra="X-Customer-Id: 42\r\n"), TRUNK, 0.0)
    assert statuses(agent) == [100]
    (event,) = events
    assert isinstance(event, IncomingCall)
    assert event.number == "+15550001111"
    assert event.caller == "+15552223333"
    assert event.extra_headers == {"X-Customer-Id": "42"}


def test_a_retransmitted_invite_is_the_same_call_and_gets_the_last_answer_again() -> None:
    agent = user_agent()
    event = incoming(agent, invite())
    agent.ring(event.key)
    assert statuses(agent) == [100, 180]
    assert agent.receive(invite(), TRUNK, 0.4) == []
    assert statuses(agent) == [180]
    agent.answer(event.key, ANSWER_SDP, 1.0)
    agent.datagrams()
    assert agent.receive(invite(), TRUNK, 1.2) == []
    assert statuses(agent) == [200]
    assert agent.calls == 1


def test_the_200_is_re_sent_at_t1_doubling_until_ack() -> None:
    agent = user_agent()
    key = answered_call(agent)
    resent_at = []
    now = 0.0
    while now < 4.0:
        now = round(now + 0.05, 2)
        agent.tick(now)
        if agent.datagrams():
            resent_at.append(now)
    assert resent_at == [0.5, 1.5, 3.5]  # 0.5 s, then 1 s, then 2 s later
    tag = agent._dialogs[key].local_tag
    events = agent.receive(request("ACK", to_tag=tag, branch="z9hG4bK-ack"), TRUNK, 4.0)
    assert events == [CallConfirmed(key)]
    agent.tick(7.5)
    assert agent.datagrams() == []


def test_no_ack_in_32_seconds_ends_the_call_with_a_bye() -> None:
    agent = user_agent()
    key = answered_call(agent)
    events = []
    now = 0.0
    while now < 33:
        now = round(now + 0.05, 2)
        events += agent.tick(now)
    assert CallEnded(key, "no_ack") in events
    byes = [m for m, _ in sent(agent) if getattr(m, "method", "") == "BYE"]
    assert len({bye.branch for bye in byes}) == 1  # one BYE (re-sent until answered)


def test_cancel_while_ringing_answers_200_and_487_and_ends_the_call() -> None:
    agent = user_agent()
    event = incoming(agent, invite())
    agent.ring(event.key)
    agent.datagrams()
    events = agent.receive(request("CANCEL"), TRUNK, 0.5)
    assert events == [CallEnded(event.key, "cancelled")]
    answers = sent(agent)
    assert [(m.status, m.cseq[1]) for m, _ in answers] == [(200, "CANCEL"), (487, "INVITE")]
    assert agent.answer(event.key, ANSWER_SDP, 0.6) is False
    # The 487 is re-sent until its ACK, which stops it.
    agent.tick(1.0)
    assert statuses(agent) == [487]
    agent.receive(request("ACK", to_tag=answers[1][0].to_tag), TRUNK, 1.1)
    agent.tick(3.0)
    assert agent.datagrams() == []


def test_a_bye_from_the_caller_is_answered_and_ends_the_call() -> None:
    agent = user_agent()
    tag = our_tag(agent)
    events = agent.receive(request("BYE", to_tag=tag, cseq=2, branch="z9hG4bK-bye"), TRUNK, 5.0)
    assert [type(e) for e in events] == [CallEnded]
    assert statuses(agent) == [200]
    # Its retransmission gets the same answer, and no second event.
    assert agent.receive(request("BYE", to_tag=tag, cseq=2, branch="z9hG4bK-bye"), TRUNK, 5.5) == []
    assert statuses(agent) == [200]


def test_requests_for_no_call_get_481() -> None:
    agent = user_agent()
    agent.receive(request("BYE", to_tag="nobody"), TRUNK, 0.0)
    agent.receive(request("CANCEL", branch="z9hG4bK-none"), TRUNK, 0.0)
    assert statuses(agent) == [481, 481]


def test_our_bye_is_re_sent_until_answered() -> None:
    agent = user_agent()
    key = answered_call(agent)
    assert agent.hang_up(key, 1.0)
    ((data, to),) = agent.datagrams()
    bye = parse_message(data)
    assert to == TRUNK
    assert isinstance(bye, SipRequest)
    assert bye.method == "BYE"
    assert (bye.header("To") or "").endswith(";tag=caller-tag")
    agent.tick(1.5)
    assert len(agent.datagrams()) == 1
    ok = f"SIP/2.0 200 OK\r\nVia: {bye.header('Via')}\r\nFrom: {bye.header('From')}\r\n"
    ok += f"To: {bye.header('To')}\r\nCall-ID: {bye.call_id}\r\nCSeq: {bye.header('CSeq')}\r\n\r\n"
    assert agent.receive(ok.encode(), TRUNK, 1.6) == [HangUpFinished(key, answered=True)]
    agent.tick(5.0)
    assert agent.datagrams() == []


def test_options_is_answered_200_with_what_we_allow() -> None:
    agent = user_agent()
    agent.receive(request("OPTIONS"), TRUNK, 0.0)
    ((response, _),) = sent(agent)
    assert response.status == 200
    assert "INVITE" in (response.header("Allow") or "")


def test_a_method_we_do_not_take_is_405() -> None:
    agent = user_agent()
    agent.receive(request("REGISTER"), TRUNK, 0.0)
    assert statuses(agent) == [405]


def test_a_reject_is_sent_with_its_reason_and_retry_after() -> None:
    agent = user_agent()
    event = incoming(agent, invite())
    agent.datagrams()
    agent.reject(event.key, 503, 0.1, reason="At capacity", retry_after=5)
    ((response, _),) = sent(agent)
    assert (response.status, response.reason) == (503, "At capacity")
    assert response.header("Retry-After") == "5"
    assert response.to_tag


def test_a_malformed_request_that_names_itself_gets_a_precise_400() -> None:
    agent = user_agent()
    data = invite().replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE")
    events = agent.receive(data, TRUNK, 0.0)
    assert events == [MessageRejected("cseq_method_mismatch", answered=True)]
    ((response, _),) = sent(agent)
    assert (response.status, response.reason) == (400, "CSeq method does not match the request")


def test_garbage_is_dropped_and_reported_not_answered() -> None:
    agent = user_agent()
    assert agent.receive(b"\x00\x01garbage\r\n\r\n", TRUNK, 0.0) == [
        MessageRejected("bad_start_line", answered=False)
    ]
    assert agent.datagrams() == []


def test_the_response_via_carries_received_and_rport() -> None:
    agent = user_agent()
    agent.receive(request("OPTIONS"), ("203.0.113.7", 40123), 0.0)
    ((response, to),) = sent(agent)
    assert to == ("203.0.113.7", 40123)
    assert "rport=40123" in (response.header("Via") or "")
    assert "received=203.0.113.7" in (response.header("Via") or "")


def test_a_late_copy_of_the_invite_of_a_call_that_goes_on_is_not_a_new_call() -> None:
    agent = user_agent()
    key = answered_call(agent)
    tag = agent._dialogs[key].local_tag
    agent.receive(request("ACK", to_tag=tag, branch="z9hG4bK-ack"), TRUNK, 0.2)
    agent.tick(40.0)  # every transaction of the call is over; the call is not
    agent.datagrams()
    assert agent.receive(invite(), TRUNK, 41.0) == []
    assert agent.datagrams() == []
    assert agent.calls == 1
