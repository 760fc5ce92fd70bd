"""Tenants' URLs the server fetches (knowledge-base pages, webhook tools) may not reach its own
network: a host that resolves to a private, loopback, link-local or otherwise non-public
address is refused (every address the name resolves to is judged, after DNS resolution), unless
the deployment allows it (`VELOX_ALLOW_PRIVATE_URLS=true`).

Check every URL before each request, redirects included. A caller that can send the request to
the very address that was checked (`pinned_url`) should: a second lookup then cannot point it
elsewhere (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")


class UnsafeUrlError(ValueError):
    """A URL the server will not fetch, with why (for the tenant to read)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


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


def is_public_address(address: str) -> bool:
    """True for a global unicast address; False for private, loopback, link-local, shared,
    multicast, reserved and unspecified ones (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _parts(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeUrlError(url, "only http and https URLs can be fetched")
    if not parts.hostname:
        raise UnsafeUrlError(url, "the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeUrlError(url, "the URL's port is not a number") from error
    return parts.scheme, parts.hostname, port


async def check_url(url: str, *, allow_private: bool) -> CheckedUrl:
    """Resolve `url`'s host and allow it, or raise `UnsafeUrlError` saying why: not http(s),
    no host, a host that does not resolve, or (unless `allow_private`) one that resolves to an
    address that is not public."""
    scheme, host, port = _parts(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except socket.gaierror as error:
        raise UnsafeUrlError(url, f"the host {host} does not resolve") from error
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeUrlError(url, f"the host {host} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise UnsafeUrlError(
                    url,
                    f"{host} resolves to {address}, a private, loopback or link-local address;"
                    " such URLs are refused unless the deployment sets"
                    " VELOX_ALLOW_PRIVATE_URLS=true",
                )
    return CheckedUrl(url, scheme, host, port, addresses[0])


def pinned_url(checked: CheckedUrl) -> str:
    """`checked.url` with its host replaced by the address that was checked."""
    parts = urlsplit(checked.url)
    address = checked.address
    literal = f"[{address}]" if ":" in address else address
    return parts._replace(netloc=f"{literal}:{checked.port}").geturl()


def host_header(checked: CheckedUrl) -> str:
    """The `Host` a request pinned to `checked.address` sends: the URL's own name (and port
    when it is not the scheme's default)."""
    default = 443 if checked.scheme == "https" else 80
    return checked.host if checked.port == default else f"{checked.host}:{checked.port}"


def same_host(first: str, second: str) -> bool:
    """Whether two URLs name the same host (a redirect may stay on it)."""
    return (urlsplit(first).hostname or "").lower() == (urlsplit(second).hostname or "").lower()
