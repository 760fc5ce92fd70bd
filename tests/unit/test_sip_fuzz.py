"""Whatever arrives on the SIP port, the user agent answers 400, drops it or takes it: it never
raises, and what it sends is always a well-formed SIP message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.sip.message import parse_message
from telephony.sip.user_agent import MessageRejected, UserAgent
from tests.unit.sip_requests import TRUNK, invite, request

pytestmark = pytest.mark.unit

SEEDS = [invite(), request("BYE", to_tag="x"), request("OPTIONS"), request("CANCEL")]


def check(data: bytes) -> None:
    agent = UserAgent(lambda remote: "198.51.100.1", 5060)
    events = agent.receive(data, TRUNK, 0.0)
    events += agent.tick(40.0)
    for sent, _ in agent.datagrams():
        parse_message(sent)  # raises if we ever sent something malformed
    for event in events:
        if isinstance(event, MessageRejected):
            assert event.reason


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_break_the_user_agent(data: bytes) -> None:
    check(data)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=8)), max_size=6),
    st.integers(0, 2000),
)
def test_mutated_requests_never_break_the_user_agent(
    seed: bytes, splices: list[tuple[int, bytes]], cut: int
) -> None:
    data = bytearray(seed)
    for at, chunk in splices:
        position = at % (len(data) + 1)
        data[position : position + len(chunk)] = chunk
    check(bytes(data[: max(cut, len(data) // 2)]))
