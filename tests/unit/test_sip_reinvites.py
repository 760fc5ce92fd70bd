"""Offers inside an answered call (re-INVITE, UPDATE), sans-I/O: held for the application's
answer, answered 200 with its SDP or refused, the call going on either way."""

from __future__ import annotations

import pytest

from telephony.sip.message import SipResponse, parse_message
from telephony.sip.sdp import parse_offer
from telephony.sip.user_agent import CallEnded, SessionOffered, UserAgent
from tests.unit.sip_requests import SDP_OFFER, TRUNK, request
from tests.unit.test_sip_user_agent import answered_call, sent, user_agent

pytestmark = pytest.mark.unit

HOLD_OFFER = SDP_OFFER.replace("a=ptime:20\r\n", "a=ptime:20\r\na=sendonly\r\n")


def confirmed_call(agent: UserAgent) -> tuple[str, str]:
    key = answered_call(agent)
    tag = agent._dialogs[key].local_tag
    agent.receive(request("ACK", to_tag=tag), TRUNK, 0.1)
    return key, tag


def test_a_re_invite_is_offered_then_answered_200_re_sent_until_its_ack() -> None:
    agent = user_agent()
    key, tag = confirmed_call(agent)
    reinvite = request("INVITE", branch="z9hG4bK-re", cseq=2, to_tag=tag, body=HOLD_OFFER)
    (event,) = agent.receive(reinvite, TRUNK, 1.0)
    assert event == SessionOffered(key, "INVITE", HOLD_OFFER.encode(), "application/sdp")
    assert agent.receive(reinvite, TRUNK, 1.1) == []  # a copy: still waiting, not a new offer
    assert agent.accept_offer(key, b"v=0\r\n", 1.2)
    ((ok, _),) = sent(agent)
    assert (ok.status, ok.to_tag, ok.body, ok.cseq) == (200, tag, b"v=0\r\n", (2, "INVITE"))
    agent.tick(1.8)
    assert [m.status for m, _ in sent(agent)] == [200]  # re-sent: no ACK yet
    agent.receive(request("ACK", branch="z9hG4bK-ack2", cseq=2, to_tag=tag), TRUNK, 1.9)
    agent.tick(3.0)
    agent.tick(40.0)
    assert sent(agent) == []
    assert agent.calls == 1  # the call goes on


def test_an_offer_refused_is_488_and_the_call_goes_on() -> None:
    agent = user_agent()
    key, tag = confirmed_call(agent)
    reinvite = request("INVITE", branch="z9hG4bK-g722", cseq=2, to_tag=tag, body=SDP_OFFER)
    agent.receive(reinvite, TRUNK, 1.0)
    agent.refuse_offer(key, 488, "no common codec", 1.0)
    ((refused, _),) = sent(agent)
    assert (refused.status, refused.reason) == (488, "no common codec")
    agent.receive(request("ACK", branch="z9hG4bK-g722", cseq=2, to_tag=tag), TRUNK, 1.1)
    agent.tick(5.0)
    assert sent(agent) == []  # acknowledged: not re-sent
    assert agent.calls == 1
    assert agent.receive(request("BYE", cseq=3, to_tag=tag), TRUNK, 6.0) == [
        CallEnded(key, "caller_hung_up")
    ]


def test_an_update_is_answered_at_once_and_its_copies_get_the_same_answer() -> None:
    agent = user_agent()
    key, tag = confirmed_call(agent)
    update = request("UPDATE", branch="z9hG4bK-up", cseq=2, to_tag=tag, body=HOLD_OFFER)
    (event,) = agent.receive(update, TRUNK, 1.0)
    assert isinstance(event, SessionOffered)
    assert event.method == "UPDATE"
    assert agent.accept_offer(key, b"v=0\r\n", 1.0)
    agent.receive(update, TRUNK, 1.5)
    answers = sent(agent)
    assert [(m.status, m.body) for m, _ in answers] == [(200, b"v=0\r\n")] * 2


def test_a_second_offer_while_one_waits_is_500_with_retry_after() -> None:
    agent = user_agent()
    _key, tag = confirmed_call(agent)
    agent.receive(
        request("INVITE", branch="z9hG4bK-a", cseq=2, to_tag=tag, body=SDP_OFFER), TRUNK, 1
    )
    agent.receive(
        request("UPDATE", branch="z9hG4bK-b", cseq=3, to_tag=tag, body=SDP_OFFER), TRUNK, 1
    )
    ((busy, _),) = sent(agent)
    assert isinstance(busy, SipResponse)
    assert (busy.status, busy.header("Retry-After")) == (500, "1")


def test_an_offer_for_no_call_is_481() -> None:
    agent = user_agent()
    agent.receive(request("UPDATE", to_tag="nobody", body=SDP_OFFER), TRUNK, 0.0)
    agent.receive(request("INVITE", branch="z9hG4bK-x", to_tag="nobody", body=SDP_OFFER), TRUNK, 0)
    assert [m.status for m, _ in sent(agent)] == [481, 481]


@pytest.mark.parametrize(
    ("change", "on_hold", "ours"),
    [
        (("a=ptime:20\r\n", "a=ptime:20\r\na=sendonly\r\n"), True, "recvonly"),
        (("a=ptime:20\r\n", "a=ptime:20\r\na=inactive\r\n"), True, "inactive"),
        (("c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0"), True, "sendrecv"),
        (("s=call\r\n", "s=call\r\na=sendonly\r\n"), True, "recvonly"),  # session level
        (("a=ptime:20\r\n", "a=ptime:20\r\na=sendrecv\r\n"), False, "sendrecv"),
    ],
)
def test_hold_is_read_from_the_offer(change: tuple[str, str], on_hold: bool, ours: str) -> None:
    offer = parse_offer(SDP_OFFER.replace(*change).encode())
    assert offer.on_hold is on_hold
    assert offer.answer_direction == ours


def test_parse_message_reads_update() -> None:
    message = parse_message(request("UPDATE", to_tag="t", body=SDP_OFFER))
    assert message.method == "UPDATE"  # type: ignore[union-attr]


def test_a_re_invite_before_the_calls_ack_is_491() -> None:
    agent = user_agent()
    key = answered_call(agent)
    tag = agent._dialogs[key].local_tag
    early = request("INVITE", branch="z9hG4bK-early", cseq=2, to_tag=tag, body=HOLD_OFFER)
    assert agent.receive(early, TRUNK, 0.1) == []
    assert [m.status for m, _ in sent(agent)] == [491]
    agent.receive(request("ACK", to_tag=tag), TRUNK, 0.2)
    agent.tick(1.0)
    assert [m.status for m, _ in sent(agent)] == [491]  # not ACKed yet: re-sent; the 200 not
