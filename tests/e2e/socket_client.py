"""A raw conversation-socket client, playing the part of an SDK so each rule is seen on the
wire: the socket's URL (plain, signed, private agent), messages read with deadlines, refusals at
the upgrade with their HTTP status and body."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.voice_service import RunningService


def socket_url(service: RunningService, **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"agent_id": service.agent_id, **query}.items())
    return service.base_url.replace("http://", "ws://") + f"/v1/convai/conversation?{params}"


def make_private(service: RunningService) -> None:
    response = httpx.patch(
        f"{service.base_url}/v1/convai/agents/{service.agent_id}",
        json={"platform_settings": {"auth": {"enable_auth": True}}},
        headers=service.headers,
    )
    response.raise_for_status()


def signed_url(service: RunningService) -> str:
    response = httpx.get(
        f"{service.base_url}/v1/convai/conversation/get-signed-url",
        params={"agent_id": service.agent_id},
        headers=service.headers,
    )
    response.raise_for_status()
    url: str = response.json()["signed_url"]
    return url


async def receive(ws: ClientConnection, within_s: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(within_s):
        message: dict[str, Any] = json.loads(await ws.recv())
        return message


async def next_of(ws: ClientConnection, kind: str, within_s: float = 5.0) -> dict[str, Any]:
    """The next message of type `kind`, skipping audio, pings and the rest."""
    deadline = time.monotonic() + within_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {kind!r} message within {within_s} s")
        message = await receive(ws, remaining)
        if message["type"] == kind:
            return message


async def drain_until_closed(ws: ClientConnection) -> None:
    """Read (and drop) messages until the server closes the socket."""
    while True:
        await receive(ws, 10)


async def refused(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, **kwargs):
            pass
    response = caught.value.response
    return response.status_code, json.loads(response.body or b"{}")


async def closed_with_error(url: str, says: str, code: int = 1013) -> None:
    """A conversation opened at `url` is refused once accepted: an `error` event saying `says`,
    then the server closes the socket with `code` (1013: try again later)."""
    async with connect(url) as ws:
        error = await receive(ws)
        assert error["type"] == "error"
        assert says in json.dumps(error)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == code
