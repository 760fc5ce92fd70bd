from pathlib import Path

import pytest

from app.config.signed_urls import SignedUrlError, issue, load_or_create_secret, verify

pytestmark = pytest.mark.unit

SECRET = b"k" * 32


def test_a_token_verifies_for_its_agent_until_it_expires() -> None:
    token = issue(SECRET, "org_1", "agent_1", ttl_s=60, now=1000.0)
    claims = verify(SECRET, token, "agent_1", now=1059.0)
    assert (claims.organization_id, claims.agent_id, claims.expires_at) == (
        "org_1",
        "agent_1",
        1060,
    )
    with pytest.raises(SignedUrlError) as expired:
        verify(SECRET, token, "agent_1", now=1061.0)
    assert expired.value.reason == "expired"


def test_every_token_has_its_own_id() -> None:
    first = verify(SECRET, issue(SECRET, "org_1", "agent_1", 60), "agent_1")
    second = verify(SECRET, issue(SECRET, "org_1", "agent_1", 60), "agent_1")
    assert first.token_id != second.token_id


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t.replace(".", ""), "malformed"),
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad_signature"),
        (lambda t: "e30" + t[t.index(".") :], "bad_signature"),  # another body, same signature
        (lambda t: "", "malformed"),
    ],
)
def test_forged_or_broken_tokens_are_refused(mangle, reason) -> None:  # type: ignore[no-untyped-def]
    token = issue(SECRET, "org_1", "agent_1", ttl_s=60)
    with pytest.raises(SignedUrlError) as refused:
        verify(SECRET, mangle(token), "agent_1")
    assert refused.value.reason == reason


def test_a_token_signed_with_another_secret_or_for_another_agent_is_refused() -> None:
    token = issue(SECRET, "org_1", "agent_1", ttl_s=60)
    with pytest.raises(SignedUrlError, match="not valid"):
        verify(b"x" * 32, token, "agent_1")
    with pytest.raises(SignedUrlError, match="another agent"):
        verify(SECRET, token, "agent_2")


def test_the_signing_secret_is_created_once_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    first = load_or_create_secret(path)
    assert len(first) == 32
    assert load_or_create_secret(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
