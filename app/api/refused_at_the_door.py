"""A credential just refused for its rate is refused again at the door until its Retry-After
passes: a 429 without authenticating it or opening a database session, so a tenant far over its
rate costs the service little more than reading its requests' headers.

Only a credential the API itself refused is remembered (an unknown key is never: it goes on to
its 401), by a SHA-256 of the header that carried it, in this process's memory, for no longer
than its Retry-After said. What the 429 says is what the first refusal said.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from app.limits.rates import Refusal
from app.observability.metrics import RATE_LIMITED, REFUSED_AT_THE_DOOR

# Credentials remembered at most: past it, the ones whose wait is over are forgotten first, then
# the oldest.
MAX_REMEMBERED = 10_000
CREDENTIAL_HEADERS = (b"xi-api-key", b"authorization")


def credential_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    """A digest of the API key or bearer token a request carries, if any."""
    for name, value in headers:
        if name.lower() in CREDENTIAL_HEADERS and value:
            return hashlib.sha256(value).hexdigest()
    return None


class RefusedCredentials:
    """Credentials refused for their rate, until when, and why."""

    def __init__(self) -> None:
        self._until: dict[str, tuple[float, Refusal]] = {}
        self._lock = threading.Lock()  # remembered from the API's worker threads

    def remember(self, credential: str, refusal: Refusal) -> None:
        deadline = time.monotonic() + refusal.retry_after_s
        with self._lock:
            if len(self._until) >= MAX_REMEMBERED:
                self._forget_some()
            self._until[credential] = (deadline, refusal)

    def refused(self, credential: str) -> tuple[float, Refusal] | None:
        """Seconds still to wait and the refusal, while the credential is refused."""
        held = self._until.get(credential)
        if held is None:
            return None
        wait = held[0] - time.monotonic()
        if wait <= 0:
            with self._lock:
                self._until.pop(credential, None)
            return None
        return wait, held[1]

    def _forget_some(self) -> None:
        now = time.monotonic()
        for credential in [c for c, (deadline, _) in self._until.items() if deadline <= now]:
            del self._until[credential]
        while len(self._until) >= MAX_REMEMBERED:
            del self._until[next(iter(self._until))]


class RefusedAtTheDoor:
    """ASGI middleware: the API's requests (`/v1/`) of a refused credential answered 429."""

    def __init__(self, app: ASGIApp, refused: RefusedCredentials) -> None:
        self.app = app
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            credential = credential_of(scope["headers"])
            held = self.refused.refused(credential) if credential else None
            if held is not None:
                await self._refuse(send, *held)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, wait_s: float, refusal: Refusal) -> None:
        RATE_LIMITED.labels(kind=refusal.kind).inc()
        REFUSED_AT_THE_DOOR.labels(kind=refusal.kind).inc()
        retry_after = max(1, math.ceil(wait_s))
        body = json.dumps(
            {
                "detail": {
                    "status": "rate_limit_exceeded",
                    "message": (
                        f"Too many requests: the {refusal.kind.replace('_', ' ')} limit is "
                        f"{refusal.limit}; try again in {retry_after} s."
                    ),
                }
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
