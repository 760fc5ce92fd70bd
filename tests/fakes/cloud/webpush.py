"""A browser's push service (what FCM, Mozilla's autopush and Apple's push service are), on
127.0.0.1: it hands out subscriptions as a browser's `PushSubscription.toJSON()` shows them, and
takes messages as RFC 8030 says — a POST to the endpoint with a `TTL`, a VAPID `Authorization`
(RFC 8292: an ES256 JWT and the signer's public key) and an aes128gcm body (RFC 8291), which it
checks and decrypts as the browser would. A subscription can be made to answer 410 Gone.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.local_http import QuietHandler, serving


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Delivered:
    """A message the push service took: what its VAPID token claimed and the decrypted text."""

    subscription: str
    ttl: int
    claims: dict[str, Any]
    signer_key: str
    payload: str


@dataclass
class _Device:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    status: int = 201


@dataclass
class PushServiceDouble:
    base_url: str = ""
    delivered: list[Delivered] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    _devices: dict[str, _Device] = field(default_factory=dict)

    def subscribe(self) -> dict[str, Any]:
        """A new device's subscription, as the browser gives it to the page."""
        name = secrets.token_hex(8)
        device = _Device(ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16))
        self._devices[name] = device
        public = device.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.base_url}/push/{name}",
            "expirationTime": None,
            "keys": {"p256dh": _b64url(public), "auth": _b64url(device.auth)},
        }

    def forget(self, endpoint: str) -> None:
        """The browser dropped the subscription: its endpoint answers 410 Gone from now on."""
        self._devices[endpoint.rsplit("/", 1)[1]].status = 410

    def receive(self, name: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        device = self._devices.get(name)
        if device is None:
            return 404, "no such subscription"
        if device.status != 201:
            return device.status, "the subscription has expired or was unsubscribed"
        if headers.get("content-encoding", "").lower() != "aes128gcm":
            return 415, "the content encoding must be aes128gcm"
        if not headers.get("ttl", "").isdigit():
            return 400, "a TTL header is required"
        try:
            claims, signer = _vapid(headers.get("authorization", ""))
        except ValueError as error:
            return 401, str(error)
        if claims.get("aud") != self.base_url:
            return 403, f"the token's audience {claims.get('aud')!r} is not this push service"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:", "http:")):
            return 403, "the token's subject must be a mailto: or https: contact"
        try:
            plain = http_ece.decrypt(
                body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm"
            )
        except Exception as error:
            return 400, f"the body could not be decrypted: {error!r}"
        self.delivered.append(
            Delivered(name, int(headers["ttl"]), claims, signer, plain.decode("utf-8"))
        )
        return device.status, ""


def _vapid(authorization: str) -> tuple[dict[str, Any], str]:
    """The claims of a `vapid t=<jwt>, k=<key>` header whose ES256 signature checks out."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError("the Authorization scheme must be vapid")
    parts = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
    token, key = parts.get("t", ""), parts.get("k", "")
    header, claims, signature = token.split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64url(key))
    raw = _unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise ValueError("the VAPID token's signature does not match its key") from error
    if json.loads(_unb64url(header)).get("alg") != "ES256":
        raise ValueError("the VAPID token must be signed with ES256")
    found: dict[str, Any] = json.loads(_unb64url(claims))
    return found, key


@contextmanager
def push_service_double() -> Iterator[PushServiceDouble]:
    double = PushServiceDouble()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            name = self.path.rsplit("/", 1)[-1]
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reason = double.receive(name, headers, body)
            if status != 201:
                double.refused.append((name, status, reason))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Handler) as base_url:
        double.base_url = base_url
        yield double
