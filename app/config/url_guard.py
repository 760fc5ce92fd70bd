"""Outgoing requests to tenants' URLs may not reach the server's own network.

A URL whose host resolves to a loopback, private, link-local, multicast, reserved or unspecified
address is refused (every address the name resolves to is checked, after DNS resolution), unless
the deployment allows it (`VELOX_ALLOW_PRIVATE_URLS=true`). The request is then sent to the
address that was checked, so a second lookup cannot point it elsewhere (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class UrlRefusedError(Exception):
    """The URL may not be fetched; the message says why, for the tenant to read."""


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    """A URL whose host was resolved and allowed: `address` is the one to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host.lower(), self.port)


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def check_url(url: str, *, allow_private: bool) -> CheckedUrl:
    """Resolve `url`'s host and allow it, or raise `UrlRefusedError` saying why."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefusedError(f"{url!r} is not an http:// or https:// URL with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UrlRefusedError(f"{url!r} has an invalid port") from error
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except socket.gaierror as error:
        raise UrlRefusedError(f"the host {host!r} cannot be resolved") from error
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise UrlRefusedError(f"the host {host!r} cannot be resolved")
    if not allow_private:
        for address in addresses:
            if _forbidden(address):
                raise UrlRefusedError(
                    f"the host {host!r} resolves to {address}, a private, loopback or"
                    " link-local address; such URLs are refused unless the deployment sets"
                    " VELOX_ALLOW_PRIVATE_URLS=true"
                )
    return CheckedUrl(url, parts.scheme, host, port, str(addresses[0]))


def pinned_url(checked: CheckedUrl) -> str:
    """`checked.url` with its host replaced by the address that was checked."""
    parts = urlsplit(checked.url)
    address = checked.address
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{checked.port}"
    return parts._replace(netloc=netloc).geturl()
