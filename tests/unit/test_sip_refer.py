"""The agent's transfer as the SIP user agent does it, sans-I/O: REFER inside the call's dialog,
the trunk's answer and its NOTIFYs (RFC 3515) turned into one `TransferEnded`."""

from __future__ import annotations

import pytest

from telephony.sip.message import SipRequest, SipResponse, parse_message, sipfrag_status
from telephony.sip.user_agent import TransferEnded, UserAgent
from tests.unit.sip_requests import TRUNK, request
from tests.unit.test_sip_user_agent import answered_call, user_agent

pytestmark = pytest.mark.unit

PERSON = "sip:+15557654321@192.0.2.10"


def confirmed_call(agent: UserAgent) -> tuple[str, str]:
    key = answered_call(agent)
    local_tag = agent._dialogs[key].local_tag
    agent.receive(request("ACK", branch="z9hG4bK-ack", to_tag=local_tag), TRUNK, 0.1)
    return key, local_tag


def referred(agent: UserAgent, key: str) -> SipRequest:
    assert agent.refer(key, PERSON, 1.0)
    ((data, to),) = agent.datagrams()
    assert to == TRUNK
    refer = parse_message(data)
    assert isinstance(refer, SipRequest)
    return refer


def answer_to(refer: SipRequest, status: int, phrase: str) -> bytes:
    return (
        f"SIP/2.0 {status} {phrase}\r\nVia: {refer.header('Via')}\r\n"
        f"From: {refer.header('From')}\r\nTo: {refer.header('To')}\r\n"
        f"Call-ID: {refer.call_id}\r\nCSeq: {refer.cseq[0]} REFER\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def notify(local_tag: str, sipfrag: str, cseq: int = 2) -> bytes:
    return request(
        "NOTIFY",
        branch=f"z9hG4bK-notify-{cseq}",
        cseq=cseq,
        to_tag=local_tag,
        extra="Event: refer\r\nSubscription-State: active\r\nContent-Type: message/sipfrag\r\n",
        body=f"SIP/2.0 {sipfrag}\r\n",
    )


def test_a_refer_goes_inside_the_dialog_with_who_refers() -> None:
    agent = user_agent()
    key, local_tag = confirmed_call(agent)
    refer = referred(agent, key)
    assert refer.method == "REFER"
    assert refer.uri == "sip:+15552223333@192.0.2.10:5060"  # the caller's Contact
    assert refer.header("Refer-To") == f"<{PERSON}>"
    assert (refer.from_tag, refer.to_tag) == (local_tag, "caller-tag")
    assert (refer.header("Referred-By") or "").startswith("<sip:velox@198.51.100.1")


def test_a_notify_of_200_ends_the_transfer_done_and_each_notify_is_answered() -> None:
    agent = user_agent()
    key, local_tag = confirmed_call(agent)
    refer = referred(agent, key)
    assert agent.receive(answer_to(refer, 202, "Accepted"), TRUNK, 1.1) == []
    assert agent.receive(notify(local_tag, "100 Trying"), TRUNK, 1.2) == []
    (ended,) = agent.receive(notify(local_tag, "200 OK", cseq=3), TRUNK, 2.0)
    assert ended == TransferEnded(key, succeeded=True, detail="200 OK")
    answers = [parse_message(data) for data, _ in agent.datagrams()]
    assert [(a.status, a.cseq[1]) for a in answers if isinstance(a, SipResponse)] == [
        (200, "NOTIFY"),
        (200, "NOTIFY"),
    ]


def test_a_notify_of_a_failure_ends_the_transfer_failed() -> None:
    agent = user_agent()
    key, local_tag = confirmed_call(agent)
    refer = referred(agent, key)
    agent.receive(answer_to(refer, 202, "Accepted"), TRUNK, 1.1)
    (ended,) = agent.receive(notify(local_tag, "486 Busy Here"), TRUNK, 2.0)
    assert ended == TransferEnded(key, succeeded=False, detail="486 Busy Here")


def test_a_refused_refer_ends_the_transfer_failed() -> None:
    agent = user_agent()
    key, _ = confirmed_call(agent)
    refer = referred(agent, key)
    (ended,) = agent.receive(answer_to(refer, 603, "Decline"), TRUNK, 1.1)
    assert isinstance(ended, TransferEnded)
    assert not ended.succeeded
    assert ended.detail == "the trunk refused the transfer: 603 Decline"


def test_an_unanswered_refer_is_re_sent_then_given_up() -> None:
    agent = user_agent()
    key, _ = confirmed_call(agent)
    referred(agent, key)
    assert agent.tick(1.5) == []
    assert len(agent.datagrams()) == 1  # re-sent at T1
    (ended,) = agent.tick(33.1)
    assert ended == TransferEnded(key, False, "the trunk did not answer the REFER")


def test_no_refer_before_the_call_is_acknowledged() -> None:
    agent = user_agent()
    key = answered_call(agent)  # 200 sent, no ACK yet
    assert not agent.refer(key, PERSON, 0.2)
    assert agent.datagrams() == []


def test_a_notify_outside_any_call_is_481() -> None:
    agent = user_agent()
    assert agent.receive(notify("nobody", "200 OK"), TRUNK, 0.0) == []
    ((data, _),) = agent.datagrams()
    response = parse_message(data)
    assert isinstance(response, SipResponse)
    assert response.status == 481


def test_a_sipfrag_is_read_by_its_status_line() -> None:
    assert sipfrag_status(b"SIP/2.0 180 Ringing\r\n") == (180, "Ringing")
    assert sipfrag_status(b"garbage") == (0, "")
