"""Tenants' URLs that reach the server's own network are refused, after DNS resolution."""

from __future__ import annotations

import pytest

from app.config.url_guard import UnsafeUrlError, check_url, is_public_address, same_host

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "224.0.0.1",
        "fc00::1",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111"])
def test_global_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


async def test_a_host_resolving_to_loopback_is_refused_after_resolution() -> None:
    with pytest.raises(UnsafeUrlError, match="loopback"):
        await check_url("http://localhost:8080/x", allow_private=False)


async def test_a_literal_metadata_address_is_refused() -> None:
    with pytest.raises(UnsafeUrlError):
        await check_url("http://169.254.169.254/latest/meta-data/", allow_private=False)


async def test_private_addresses_pass_when_the_deployment_allows_them() -> None:
    await check_url("http://127.0.0.1:8080/x", allow_private=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "http:///nohost"])
async def test_only_http_urls_with_a_host_are_fetched(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        await check_url(url, allow_private=True)


def test_same_host_ignores_case_and_path() -> None:
    assert same_host("http://Example.com/a", "http://example.com/b?c")
    assert not same_host("http://example.com/a", "http://example.com.evil.test/a")
