"""The service's VAPID key (RFC 8292), which signs its Web Push messages to the field agents'
app; browsers subscribe with its public half (`applicationServerKey`).

The key is made from 32 secret bytes (`VELOX_VAPID_SECRET`, or a file created once in the data
directory and shared by the workers), so every node and worker signs with the same key and a
subscription outlives restarts.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# The order of P-256's base point: a private scalar lies in [1, order - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def vapid_key(secret: bytes) -> ec.EllipticCurvePrivateKey:
    """The P-256 key that `secret` (32 bytes) makes: the same bytes, the same key."""
    if len(secret) != 32:
        raise ValueError("a VAPID secret is 32 bytes (64 hex digits)")
    scalar = int.from_bytes(secret, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as browsers' `pushManager.subscribe` takes it: the uncompressed point,
    base64url without padding."""
    raw = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
