"""The HTTP and WebSocket protocols the service is served with: uvicorn's, with two guards.

- A client must finish sending a request's headers within `VELOX_HEADER_TIMEOUT_S` of starting
  it (of connecting, for the first): uvicorn waits for ever, so 200 clients sending a header a
  byte at a time held 200 connections open (slowloris). Past the deadline the connection is
  answered 408 and closed.
- A WebSocket upgrade whose request line or headers the WebSocket parser refuses (a 100 KB
  query string, say) is answered at once — the parser's own 414/431, or 400 — and closed:
  uvicorn's adapter never sent that answer, so such a client waited for ever with the
  connection held.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.settings import get_settings

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 44\r\n\r\n"
    b"The request headers took too long to arrive\n"
)


class GuardedHttpProtocol(HttpToolsProtocol):
    # None: the environment's VELOX_HEADER_TIMEOUT_S (each worker process reads its own).
    header_timeout_s: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timeout_s = self.header_timeout_s or get_settings().header_timeout_s
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(self._timeout_s, self._headers_late)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.handshake_complete or self.conn.handshake_exc is None:
            return
        output = self.conn.data_to_send()
        if not any(output):  # the parser gave up without an answer of its own
            self.conn.send_response(
                self.conn.reject(HTTPStatus.BAD_REQUEST, "Not a valid WebSocket request.\n")
            )
            output = self.conn.data_to_send()
        if not self.transport.is_closing():
            self.transport.write(b"".join(output))
            self.transport.close()


def uvicorn_protocols(header_timeout_s: float | None = None) -> dict[str, Any]:
    """The `http` and `ws` options for `uvicorn.run` / `uvicorn.Config`; with a timeout, an
    HTTP protocol bound to it (one process only: a class made here does not reach workers)."""
    http: type[GuardedHttpProtocol] = GuardedHttpProtocol
    if header_timeout_s is not None:
        http = type(
            "BoundHttpProtocol", (GuardedHttpProtocol,), {"header_timeout_s": header_timeout_s}
        )
    return {"http": http, "ws": GuardedWebSocketProtocol}
