"""Connections that would hold the server for ever are answered and closed (issue 13, class 5)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.db.migrate import upgrade
from app.main import create_app
from app.settings import Settings
from tests.live_server import free_port, serve

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT_S = 1.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url())
    port = free_port()
    app = create_app(settings, preload=False)
    with serve(app, port, header_timeout_s=HEADER_TIMEOUT_S):
        yield "127.0.0.1", port


def answer(address: tuple[str, int], request: bytes, within_s: float) -> tuple[bytes, float]:
    with socket.create_connection(address) as connection:
        connection.settimeout(within_s)
        started = time.monotonic()
        connection.sendall(request)
        data = b""
        while True:
            chunk = connection.recv(4096)
            if not chunk:
                return data, time.monotonic() - started
            data += chunk


UPGRADE = (
    b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.mark.timing
@pytest.mark.parametrize("path", ["/v1/convai/conversation", "/twilio/media"])
def test_an_upgrade_with_a_huge_query_string_is_refused_at_once(
    server: tuple[str, int], path: str
) -> None:
    request = f"GET {path}?agent_id={'x' * 100_000} HTTP/1.1\r\n".encode() + UPGRADE
    data, took = answer(server, request, within_s=5)
    assert data.startswith(b"HTTP/1.1 414"), data[:80]
    assert took < 1.0


@pytest.mark.timing
def test_an_upgrade_with_a_huge_header_is_refused_at_once(server: tuple[str, int]) -> None:
    request = (
        b"GET /v1/convai/conversation HTTP/1.1\r\nX-Big: " + b"y" * 100_000 + b"\r\n" + UPGRADE
    )
    data, took = answer(server, request, within_s=5)
    assert data.startswith(b"HTTP/1.1 431"), data[:80]
    assert took < 1.0


def test_a_client_that_never_finishes_its_headers_is_timed_out(server: tuple[str, int]) -> None:
    data, took = answer(server, b"GET /health HTTP/1.1\r\nHost: x\r\n", within_s=10)
    assert data.startswith(b"HTTP/1.1 408"), data[:80]
    assert HEADER_TIMEOUT_S * 0.9 < took < HEADER_TIMEOUT_S + 2


def test_a_client_dribbling_header_bytes_is_timed_out_all_the_same(
    server: tuple[str, int],
) -> None:
    with socket.create_connection(server) as connection:
        connection.settimeout(10)
        started = time.monotonic()
        closed_after = None
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 100:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            time.sleep(0.05)
            if time.monotonic() - started > 4:
                break
        data = connection.recv(4096) if closed_after is None else b""
    assert closed_after is not None or data.startswith(b"HTTP/1.1 408"), data[:80]


def test_many_slow_clients_do_not_stop_a_quick_one(server: tuple[str, int]) -> None:
    slow = [socket.create_connection(server) for _ in range(50)]
    try:
        for connection in slow:
            connection.sendall(b"GET /health HTTP/1.1\r\n")
        data, _ = answer(server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5)
        assert data.startswith(b"HTTP/1.1 200"), data[:80]
        time.sleep(HEADER_TIMEOUT_S + 0.5)
        for connection in slow:
            connection.settimeout(2)
            assert connection.recv(4096).startswith(b"HTTP/1.1 408")
    finally:
        for connection in slow:
            connection.close()
