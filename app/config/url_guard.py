"""Tenants' URLs the server fetches (knowledge-base pages, webhook tools) may not reach its own
network: a host that resolves to a private, loopback, link-local or otherwise non-public
address is refused, unless the deployment allows it (`VELOX_ALLOW_PRIVATE_URLS=true`).

Check every URL before each request, redirects included: `check_url` resolves the host and
judges every address it resolves to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUrlError(ValueError):
    """A URL the server will not fetch, with why."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


ALLOWED_SCHEMES = ("http", "https")


def is_public_address(address: str) -> bool:
    """True for a global unicast address; False for private, loopback, link-local, multicast,
    reserved and unspecified ones (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _parts(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeUrlError(url, "only http and https URLs can be fetched")
    if not parts.hostname:
        raise UnsafeUrlError(url, "the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeUrlError(url, "the URL's port is not a number") from error
    return parts.hostname, port


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raise `UnsafeUrlError` unless `url` is http(s) and every address its host resolves to
    is public (or `allow_private`)."""
    host, port = _parts(url)
    if allow_private:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UnsafeUrlError(url, f"the host {host} does not resolve") from error
    addresses = {str(info[4][0]) for info in infos}
    if not addresses:
        raise UnsafeUrlError(url, f"the host {host} does not resolve")
    for address in sorted(addresses):
        if not is_public_address(address):
            raise UnsafeUrlError(
                url, f"{host} resolves to {address}, a private, loopback or link-local address"
            )


def same_host(first: str, second: str) -> bool:
    """Whether two URLs name the same scheme-less host (a redirect may stay on it)."""
    return (urlsplit(first).hostname or "").lower() == (urlsplit(second).hostname or "").lower()
