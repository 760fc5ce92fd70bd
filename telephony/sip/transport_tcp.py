"""SIP over TCP (RFC 3261 section 18): a listener, one connection per peer, kept and reused.

Each connection's bytes are cut into messages by `StreamFramer` and handed on with the peer's
address, as UDP datagrams are. What the user agent sends to an address goes down that
address's connection (responses, and our requests inside a call the peer opened); with none
open, one is opened to the address (a trunk we call). A stream that loses its message
boundaries, a connection over the cap and one idle past its time (carrying no call) are
closed and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from app.aio import cancel_and_wait
from app.observability.metrics import MALFORMED_FRAMES, SIP_TCP_CLOSED
from telephony.sip.framing import StreamFramer
from telephony.sip.message import MAX_MESSAGE_BYTES
from telephony.sip.transactions import Address

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0


class _Connection(asyncio.Protocol):
    def __init__(self, owner: TcpTransport) -> None:
        self._owner = owner
        self._framer = StreamFramer(owner.max_message_bytes)
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)
        self.active_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        self.peer = (str(peer[0]), int(peer[1]))
        self.active_at = asyncio.get_running_loop().time()
        self._owner.opened(self)

    def data_received(self, data: bytes) -> None:
        self.active_at = asyncio.get_running_loop().time()
        for message in self._framer.feed(data):
            self._owner.deliver(message, self.peer)
        error = self._framer.broken
        if error is not None and self.transport is not None and not self.transport.is_closing():
            MALFORMED_FRAMES.labels(channel="sip", reason=f"tcp_{error.reason}").inc()
            log.info("SIP TCP stream from %s:%d closed: %s", *self.peer, error)
            self.close(error.reason)

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner.lost(self)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.active_at = asyncio.get_running_loop().time()
            self.transport.write(data)

    def close(self, reason: str) -> None:
        SIP_TCP_CLOSED.labels(reason=reason).inc()
        if self.transport is not None:
            self.transport.close()


class TcpTransport:
    """The TCP side of the SIP port. `deliver(message, peer)` gets each whole message;
    `in_use(peer)` says whether a call still needs the peer's connection (it is then never
    closed as idle)."""

    def __init__(
        self,
        deliver: Callable[[bytes, Address], None],
        in_use: Callable[[Address], bool],
        *,
        max_connections: int,
        idle_s: float,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.deliver = deliver
        self._in_use = in_use
        self.max_connections = max_connections
        self.idle_s = idle_s
        self.max_message_bytes = max_message_bytes
        self._connections: dict[Address, _Connection] = {}
        self._connecting: dict[Address, list[bytes]] = {}
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def start(self, host: str, port: int) -> int:
        """Listen on `host:port`; the port bound."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port)
        self._sweeper = loop.create_task(self._sweep_forever())
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._sweeper is not None:
            await cancel_and_wait(self._sweeper)
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            if connection.transport is not None:
                connection.transport.close()
        if self._server is not None:
            await self._server.wait_closed()

    # --- connections --------------------------------------------------------------------------

    def opened(self, connection: _Connection) -> None:
        if len(self._connections) >= self.max_connections:
            log.warning("SIP TCP connection from %s:%d refused: at the cap", *connection.peer)
            connection.close("connection_cap")
            return
        old = self._connections.get(connection.peer)
        self._connections[connection.peer] = connection
        if old is not None and old is not connection and old.transport is not None:
            old.transport.close()

    def lost(self, connection: _Connection) -> None:
        if self._connections.get(connection.peer) is connection:
            del self._connections[connection.peer]

    # --- sending ------------------------------------------------------------------------------

    def send(self, data: bytes, to: Address) -> None:
        """Down `to`'s connection; one is opened when there is none (its sends queue until it
        is up; a connection that cannot be made loses them, as a lost datagram is lost: the
        transaction's timeout tells)."""
        connection = self._connections.get(to)
        if connection is not None:
            connection.write(data)
            return
        queued = self._connecting.get(to)
        if queued is not None:
            queued.append(data)
            return
        self._connecting[to] = [data]
        task = asyncio.get_running_loop().create_task(self._connect(to))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, to: Address) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self), to[0], to[1]
                )
        except (OSError, TimeoutError) as error:
            lost = self._connecting.pop(to, [])
            log.info("SIP TCP connection to %s:%d failed (%s): %d lost", *to, error, len(lost))
            return
        # Keyed by the address we dialled (the peer name may spell it otherwise).
        if self._connections.get(connection.peer) is connection and connection.peer != to:
            del self._connections[connection.peer]
            connection.peer = to
            self._connections[to] = connection
        for data in self._connecting.pop(to, []):
            connection.write(data)

    # --- idle connections ---------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(self.idle_s / 4, 5.0))
            now = loop.time()
            for peer, connection in list(self._connections.items()):
                if now - connection.active_at >= self.idle_s and not self._in_use(peer):
                    log.info("SIP TCP connection from %s:%d closed: idle", *peer)
                    connection.close("idle")
