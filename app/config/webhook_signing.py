"""How webhook bodies are signed: ElevenLabs' scheme, so receivers verify Velox and ElevenLabs
webhooks with the same code (`elevenlabs` SDK: `client.webhooks.construct_event`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "ElevenLabs-Signature"


def new_secret() -> str:
    return "wsec_" + secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: str) -> str:
    """`t=<timestamp>,v0=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v0={digest.hexdigest()}"
