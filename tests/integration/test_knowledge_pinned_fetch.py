"""A knowledge-base page is fetched from the very address the URL guard checked, its name kept
for `Host`: the name is looked up once per request, by the guard, so a second lookup cannot
point the request elsewhere (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from app.knowledge.fetching import fetch_page
from tests.local_http import QuietHandler, serving

pytestmark = pytest.mark.integration

# A name no DNS answers (RFC 6761's `.test`): only the guard's lookup, faked here, knows it.
NAME = "kb.rebind.test"


class _Page(QuietHandler):
    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Page.hosts.append(self.headers.get("Host", ""))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/hours")
            self.end_headers()
            return
        body = b"We are open nine to five."
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def test_the_page_comes_from_the_checked_address_with_its_name_as_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _Page.hosts = []
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    names_looked_up: list[str] = []

    async def lookup(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if not _is_address(str(host)):
            names_looked_up.append(str(host))
        if host == NAME:
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))
            ]
        return await real(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", lookup)
    with serving(_Page) as base:
        port = urlsplit(base).port
        page = await fetch_page(
            f"http://{NAME}:{port}/moved", timeout_s=5, max_bytes=10_000, allow_private=True
        )
    assert page.body == b"We are open nine to five."
    assert page.url == f"http://{NAME}:{port}/hours"
    assert _Page.hosts == [f"{NAME}:{port}", f"{NAME}:{port}"]
    # One lookup per request (the guard's), none by the HTTP client.
    assert names_looked_up == [NAME, NAME]
