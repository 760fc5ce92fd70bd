"""A knowledge-base page fetched by the server: guarded (app/config/url_guard.py) before every
request and sent to the very address that was checked (its name kept for `Host` and TLS: a
second DNS lookup cannot point it elsewhere), redirects followed only on the same host, a
timeout and a size cap."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from app.config.url_guard import UnsafeUrlError, check_url, host_header, pinned_url, same_host
from app.knowledge.extraction import UnreadableDocumentError

MAX_REDIRECTS = 5


@dataclass(frozen=True)
class FetchedPage:
    url: str  # after redirects
    content_type: str
    body: bytes


async def fetch_page(
    url: str, *, timeout_s: float, max_bytes: int, allow_private: bool
) -> FetchedPage:
    """The page's bytes; `UnsafeUrlError` or `UnreadableDocumentError` (with a reason) if not."""
    current = url
    async with httpx.AsyncClient(
        timeout=timeout_s, follow_redirects=False, trust_env=False
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            checked = await check_url(current, allow_private=allow_private)
            headers = {"Accept": "text/html,text/plain;q=0.9,*/*;q=0.5"}
            try:
                async with client.stream(
                    "GET",
                    pinned_url(checked),
                    headers={**headers, "Host": host_header(checked)},
                    extensions={"sni_hostname": checked.host},
                ) as response:
                    if response.is_redirect:
                        target = urljoin(current, response.headers.get("location", ""))
                        if not same_host(current, target):
                            raise UnreadableDocumentError(
                                f"{current} redirects to another host ({target})",
                                "redirect_elsewhere",
                            )
                        current = target
                        continue
                    if response.status_code >= 400:
                        raise UnreadableDocumentError(
                            f"{current} answered HTTP {response.status_code}", "url_status"
                        )
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise UnreadableDocumentError(
                            f"the page is larger than {max_bytes} bytes", "too_large"
                        )
                    body = bytearray()
                    async for part in response.aiter_bytes():
                        body.extend(part)
                        if len(body) > max_bytes:
                            raise UnreadableDocumentError(
                                f"the page is larger than {max_bytes} bytes", "too_large"
                            )
                    return FetchedPage(
                        current, response.headers.get("content-type", ""), bytes(body)
                    )
            except httpx.TimeoutException as error:
                raise UnreadableDocumentError(
                    f"{current} did not answer within {timeout_s:g} s", "url_timeout"
                ) from error
            except httpx.HTTPError as error:
                raise UnreadableDocumentError(
                    f"{current} could not be fetched: {error}", "url_unreachable"
                ) from error
    raise UnreadableDocumentError(f"{url} redirects more than {MAX_REDIRECTS} times", "redirects")


__all__ = ["FetchedPage", "UnsafeUrlError", "fetch_page"]
