"""Short-lived, single-use, HMAC-signed tokens that let a browser open one conversation.

A business's server asks for a signed URL with its API key and hands the URL to a browser,
which then needs no key. The token names the organization and agent, expires quickly, and
the conversation endpoint records its id when used, so a copied URL opens nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path


class SignedUrlError(ValueError):
    """Why a token was refused: `reason` is malformed, bad_signature, expired or wrong_agent."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConversationToken:
    token_id: str
    organization_id: str
    agent_id: str
    expires_at: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(
    secret: bytes, organization_id: str, agent_id: str, ttl_s: int, now: float | None = None
) -> str:
    payload = {
        "jti": secrets.token_hex(16),
        "org": organization_id,
        "agent": agent_id,
        "exp": int((time.time() if now is None else now) + ttl_s),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def verify(secret: bytes, token: str, agent_id: str, now: float | None = None) -> ConversationToken:
    """The token's claims, if it is genuine, unexpired and for `agent_id`; else SignedUrlError."""
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature or not token.isascii():
        raise SignedUrlError("malformed", "the conversation signature is malformed")
    expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise SignedUrlError("bad_signature", "the conversation signature is not valid")
    try:
        claims = json.loads(_unb64(body))
        parsed = ConversationToken(
            str(claims["jti"]), str(claims["org"]), str(claims["agent"]), int(claims["exp"])
        )
    except (ValueError, KeyError, TypeError) as error:
        raise SignedUrlError("malformed", "the conversation signature is malformed") from error
    if parsed.expires_at < (time.time() if now is None else now):
        raise SignedUrlError("expired", "the signed URL has expired: ask for a new one")
    if parsed.agent_id != agent_id:
        raise SignedUrlError("wrong_agent", "the signed URL is for another agent")
    return parsed


def load_or_create_secret(path: Path) -> bytes:
    """The node's signing secret, created on first use (shared by workers through the file)."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_suffix(".new")
    candidate.write_text(secrets.token_hex(32))
    candidate.chmod(0o600)
    try:
        # A link, not a rename: if another worker created the file meanwhile, keep theirs.
        path.hardlink_to(candidate)
    except FileExistsError:
        pass
    finally:
        candidate.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())
