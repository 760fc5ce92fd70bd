"""Calls we place, sans-I/O: our INVITE's timers, the answers a trunk gives, CANCEL and ACK,
on a fake clock."""

from __future__ import annotations

import pytest

from telephony.sip.message import SipRequest, parse_message
from telephony.sip.placing import Placement
from telephony.sip.user_agent import CallAnswered, CallEnded, CallFailed, UserAgent
from tests.unit.sip_requests import TRUNK

pytestmark = pytest.mark.unit

CALL_ID = "placed-1@198.51.100.1"


def placement(ring_timeout_s: float = 30.0, password: str = "") -> Placement:
    return Placement(
        call_id=CALL_ID,
        from_user="+15550001111",
        to_user="+14155552671",
        target=TRUNK,
        target_host="trunk.example",
        offer=b"v=0\r\n",
        ring_timeout_s=ring_timeout_s,
        headers=(("X-Account", "42"),),
        username="trunk" if password else "",
        password=password,
    )


def requests_sent(agent: UserAgent) -> list[SipRequest]:
    out = []
    for data, to in agent.datagrams():
        assert to == TRUNK
        message = parse_message(data)
        assert isinstance(message, SipRequest)
        out.append(message)
    return out


def response(
    invite: SipRequest, status: int, phrase: str, *, to_tag: str = "callee", extra: str = ""
) -> bytes:
    body = "v=0\r\n" if status == 200 else ""
    tag = f";tag={to_tag}" if status > 100 else ""
    return (
        f"SIP/2.0 {status} {phrase}\r\n"
        f"Via: {invite.header('Via')}\r\n"
        f"From: {invite.header('From')}\r\n"
        f"To: {invite.header('To')}{tag}\r\n"
        f"Call-ID: {invite.call_id}\r\n"
        f"CSeq: {invite.cseq[0]} INVITE\r\n"
        "Contact: <sip:callee@192.0.2.10:5060>\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def placed(agent: UserAgent, **kwargs: object) -> SipRequest:
    agent.place(placement(**kwargs), 0.0)  # type: ignore[arg-type]
    (invite,) = requests_sent(agent)
    return invite


def test_the_invite_names_the_callee_at_the_trunk_with_its_headers() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent)
    assert invite.uri == "sip:+14155552671@trunk.example:5060"
    assert invite.header("X-Account") == "42"
    assert invite.from_tag
    assert invite.cseq == (1, "INVITE")


def test_an_unheard_invite_is_re_sent_at_t1_doubling_then_fails_at_timer_b() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    placed(agent, ring_timeout_s=60.0)
    resent_at, events = [], []
    now = 0.0
    while now < 33.0:
        now = round(now + 0.05, 2)
        events += agent.tick(now)
        if requests_sent(agent):
            resent_at.append(now)
    assert resent_at[:4] == [0.5, 1.5, 3.5, 7.5]
    (failed,) = events
    assert isinstance(failed, CallFailed)
    assert failed.outcome.outcome == "failed"
    assert "timer B" in failed.outcome.detail


@pytest.mark.parametrize(
    ("status", "phrase", "outcome"),
    [
        (486, "Busy Here", "busy"),
        (480, "Temporarily Unavailable", "no_answer"),
        (603, "Decline", "failed"),
        (404, "Not Found", "failed"),
    ],
)
def test_a_final_failure_is_acked_on_the_invites_branch_and_told(
    status: int, phrase: str, outcome: str
) -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent)
    (event,) = agent.receive(response(invite, status, phrase), TRUNK, 0.1)
    assert isinstance(event, CallFailed)
    assert (event.outcome.outcome, event.outcome.detail) == (outcome, f"{status} {phrase}")
    (ack,) = requests_sent(agent)
    assert (ack.method, ack.branch, ack.to_tag) == ("ACK", invite.branch, "callee")
    # The failure re-sent (our ACK was lost) is acknowledged again, and told once only.
    assert agent.receive(response(invite, status, phrase), TRUNK, 0.6) == []
    assert [r.method for r in requests_sent(agent)] == ["ACK"]


def test_a_challenge_is_acked_and_answered_once_with_credentials() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent, password="secret")
    challenge = 'WWW-Authenticate: Digest realm="t", nonce="n1", qop="auth"\r\n'
    assert agent.receive(response(invite, 401, "Unauthorized", extra=challenge), TRUNK, 0.1) == []
    ack, again = requests_sent(agent)
    assert (ack.method, ack.branch) == ("ACK", invite.branch)
    assert again.cseq == (2, "INVITE")
    assert again.branch != invite.branch
    assert (again.header("Authorization") or "").startswith('Digest username="trunk"')
    (event,) = agent.receive(response(again, 401, "Unauthorized", extra=challenge), TRUNK, 0.2)
    assert isinstance(event, CallFailed)
    assert event.outcome.detail == "401 Unauthorized"


def test_an_answer_is_acked_each_time_it_comes_and_the_callee_can_hang_up() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent)
    (answered,) = agent.receive(response(invite, 200, "OK"), TRUNK, 0.1)
    assert isinstance(answered, CallAnswered)
    assert answered.key == CALL_ID
    (ack,) = requests_sent(agent)
    assert ack.method == "ACK"
    assert ack.uri == "sip:callee@192.0.2.10:5060"
    assert ack.branch != invite.branch
    assert agent.receive(response(invite, 200, "OK"), TRUNK, 0.6) == []
    assert [r.method for r in requests_sent(agent)] == ["ACK"]
    bye = (
        "BYE sip:+15550001111@198.51.100.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-bye\r\n"
        f"From: {invite.header('To')};tag=callee\r\n"
        f"To: {invite.header('From')}\r\n"
        f"Call-ID: {CALL_ID}\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    (ended,) = agent.receive(bye, TRUNK, 1.0)
    assert ended == CallEnded(CALL_ID, "caller_hung_up")


def test_our_hang_up_of_an_answered_call_is_a_bye_inside_its_dialog() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent)
    agent.receive(response(invite, 200, "OK"), TRUNK, 0.1)
    requests_sent(agent)
    assert agent.hang_up(CALL_ID, 1.0)
    (bye,) = requests_sent(agent)
    assert bye.method == "BYE"
    assert bye.uri == "sip:callee@192.0.2.10:5060"
    assert (bye.from_tag, bye.to_tag) == (invite.from_tag, "callee")
    assert bye.cseq[0] > invite.cseq[0]


def test_ringing_past_the_timeout_is_cancelled_and_its_487_acked() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent, ring_timeout_s=5.0)
    assert agent.receive(response(invite, 180, "Ringing"), TRUNK, 0.1) == []
    assert agent.tick(4.9) == []
    assert requests_sent(agent) == []  # heard: the INVITE is no longer re-sent
    agent.tick(5.0)
    (cancel,) = requests_sent(agent)
    assert (cancel.method, cancel.branch, cancel.cseq) == ("CANCEL", invite.branch, (1, "CANCEL"))
    (event,) = agent.receive(response(invite, 487, "Request Terminated"), TRUNK, 5.1)
    assert isinstance(event, CallFailed)
    assert (event.outcome.outcome, event.outcome.detail) == ("no_answer", "no answer within 5 s")
    (ack,) = requests_sent(agent)
    assert ack.method == "ACK"


def test_a_cancel_waits_for_the_trunk_to_ring() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent)
    assert agent.hang_up(CALL_ID, 0.1)
    assert requests_sent(agent) == []  # nothing heard yet: no CANCEL (RFC 3261 section 9.1)
    agent.receive(response(invite, 100, "Trying"), TRUNK, 0.2)
    (cancel,) = requests_sent(agent)
    assert cancel.method == "CANCEL"


def test_a_proxy_challenge_is_answered_with_proxy_authorization() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent, password="secret")
    challenge = 'Proxy-Authenticate: Digest realm="p", nonce="n2"\r\n'
    agent.receive(
        response(invite, 407, "Proxy Authentication Required", extra=challenge), TRUNK, 0.1
    )
    _, again = requests_sent(agent)
    assert (again.header("Proxy-Authorization") or "").startswith('Digest username="trunk"')
    assert again.header("Authorization") is None


def test_a_challenge_without_credentials_fails_the_call_with_it() -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    invite = placed(agent)
    challenge = 'WWW-Authenticate: Digest realm="t", nonce="n1"\r\n'
    (event,) = agent.receive(response(invite, 401, "Unauthorized", extra=challenge), TRUNK, 0.1)
    assert isinstance(event, CallFailed)
    assert (event.outcome.outcome, event.outcome.detail) == ("failed", "401 Unauthorized")
