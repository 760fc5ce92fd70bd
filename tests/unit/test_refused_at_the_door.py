"""A credential refused for its rate is answered 429 at the door until its Retry-After passes,
without reaching the API (no authentication, no database session)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app.api import refused_at_the_door as door
from app.api.refused_at_the_door import RefusedAtTheDoor, RefusedCredentials, credential_of
from app.limits.rates import Refusal

pytestmark = pytest.mark.unit

KEY = "vx_" + "a" * 64


def api(reached: list[str]) -> Starlette:
    async def agents(request: Request) -> PlainTextResponse:
        reached.append(request.url.path)
        return PlainTextResponse("agents")

    return Starlette(routes=[Route("/v1/convai/agents", agents), Route("/health", agents)])


def client_for(refused: RefusedCredentials, reached: list[str]) -> TestClient:
    app: Any = RefusedAtTheDoor(api(reached), refused)
    return TestClient(app)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_a_refused_key_is_answered_at_the_door_until_its_wait_is_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused, reached = RefusedCredentials(), []
    client = client_for(refused, reached)
    refused.remember(digest(KEY), Refusal("api_key", "20/second", 1))
    answer = client.get("/v1/convai/agents", headers={"xi-api-key": KEY})
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "1"
    detail = json.loads(answer.text)["detail"]
    assert detail["status"] == "rate_limit_exceeded"
    assert "api key limit is 20/second" in detail["message"]
    assert reached == []
    # Another key, the same key as a bearer token of another value, and the health check pass.
    assert client.get("/v1/convai/agents", headers={"xi-api-key": KEY + "b"}).status_code == 200
    assert client.get("/health", headers={"xi-api-key": KEY}).status_code == 200
    # Once the wait is over the key reaches the API again.
    later = time.monotonic() + 1.01
    monkeypatch.setattr(door.time, "monotonic", lambda: later)
    assert client.get("/v1/convai/agents", headers={"xi-api-key": KEY}).status_code == 200
    assert reached == ["/v1/convai/agents", "/health", "/v1/convai/agents"]


def test_a_bearer_token_is_a_credential_too() -> None:
    assert credential_of([(b"authorization", b"Bearer " + KEY.encode())]) == digest("Bearer " + KEY)
    assert credential_of([(b"cookie", b"velox_session=x")]) is None


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(door, "MAX_REMEMBERED", 3)
    refused = RefusedCredentials()
    for n in range(5):
        refused.remember(f"c{n}", Refusal("api_key", "1/minute", 60))
    assert refused.refused("c0") is None  # the oldest forgotten first
    assert refused.refused("c4") is not None
