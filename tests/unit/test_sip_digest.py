"""Digest authentication (RFC 2617 with MD5): the RFC's own example, our challenges and checks,
and our answer to a trunk's challenge."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.sip.digest import (
    NONCE_LIFETIME_S,
    DigestChecker,
    DigestError,
    Verdict,
    authorization,
    digest_response,
    params_of,
)

pytestmark = pytest.mark.unit

NOW = 1_800_000_000.0


def test_the_rfc_2617_example_response() -> None:
    assert (
        digest_response(
            username="Mufasa",
            password="Circle Of Life",
            realm="testrealm@host.com",
            method="GET",
            uri="/dir/index.html",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


def answer(checker: DigestChecker, password: str, now: float = NOW) -> str:
    return authorization(checker.challenge(now), "trunk", password, "INVITE", "sip:1@h")


def test_our_answer_to_our_challenge_is_accepted() -> None:
    checker = DigestChecker(b"k" * 32)
    header = answer(checker, "pass")
    assert checker.check(header, "INVITE", "trunk", "pass", NOW + 1) is Verdict.ACCEPTED


def test_a_wrong_password_or_username_is_wrong() -> None:
    checker = DigestChecker(b"k" * 32)
    assert checker.check(answer(checker, "nope"), "INVITE", "trunk", "pass", NOW) is Verdict.WRONG
    header = answer(checker, "pass")
    assert checker.check(header, "INVITE", "other", "pass", NOW) is Verdict.WRONG


def test_an_old_or_foreign_nonce_is_stale() -> None:
    checker = DigestChecker(b"k" * 32)
    header = answer(checker, "pass")
    later = NOW + NONCE_LIFETIME_S + 1
    assert checker.check(header, "INVITE", "trunk", "pass", later) is Verdict.STALE
    foreign = DigestChecker(b"x" * 32)
    assert foreign.check(header, "INVITE", "trunk", "pass", NOW) is Verdict.STALE


def test_no_or_unreadable_credentials_are_missing() -> None:
    checker = DigestChecker(b"k" * 32)
    assert checker.check(None, "INVITE", "trunk", "pass", NOW) is Verdict.MISSING
    assert checker.check("Basic abc", "INVITE", "trunk", "pass", NOW) is Verdict.MISSING


def test_a_challenge_without_qop_is_answered_the_rfc_2069_way() -> None:
    header = authorization('Digest realm="r", nonce="n1"', "u", "p", "INVITE", "sip:x@y")
    params = params_of(header)
    assert "qop" not in params
    expected = digest_response(
        username="u", password="p", realm="r", method="INVITE", uri="sip:x@y", nonce="n1"
    )
    assert params["response"] == expected


def test_a_challenge_we_cannot_answer_says_why() -> None:
    with pytest.raises(DigestError, match="SHA-256"):
        authorization('Digest realm="r", nonce="n", algorithm=SHA-256', "u", "p", "INVITE", "s")
    with pytest.raises(DigestError, match="no nonce"):
        authorization('Digest realm="r"', "u", "p", "INVITE", "s")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_authorization_header_is_judged_never_raised(header: str) -> None:
    checker = DigestChecker(b"k" * 32)
    for value in (header, "Digest " + header):
        assert checker.check(value, "INVITE", "trunk", "pass", NOW) in Verdict


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_challenge_is_answered_or_refused_with_a_digest_error(challenge: str) -> None:
    for value in (challenge, "Digest " + challenge):
        with contextlib.suppress(DigestError):
            authorization(value, "u", "p", "INVITE", "sip:x@y")
