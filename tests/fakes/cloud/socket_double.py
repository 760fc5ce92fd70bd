"""What the WebSocket service doubles share: a free local port in the test's own event loop, and a
record of every connection (its upgrade request and the JSON messages the client sent)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


@dataclass
class RecordedConnection:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    messages: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None


class SocketDouble(ABC):
    """`async with Double() as double:` then point the client at `double.base_url`."""

    def __init__(self) -> None:
        self.connections: list[RecordedConnection] = []
        self.audio_messages_sent = 0
        self._server: Server | None = None
        self.base_url = ""

    async def __aenter__(self) -> Self:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._process_request
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def messages(self, index: int = -1) -> list[dict[str, Any]]:
        return self.connections[index].messages

    @abstractmethod
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Check the upgrade (path, key); a response refuses it."""

    @abstractmethod
    async def _handle(self, socket: ServerConnection) -> None:
        """Serve one accepted connection."""
