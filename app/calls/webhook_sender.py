"""Webhook tools' requests over HTTP (httpx, async): to checked addresses only.

Each request's host is resolved and refused when it is private, loopback or link-local (unless
`VELOX_ALLOW_PRIVATE_URLS=true`, see `app.config.url_guard`), and sent to the very address that
was checked. Redirects are followed on the same host only, each one checked again. The caller
bounds the whole exchange with the tool's `response_timeout_secs`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

import httpx

from app.config.url_guard import CheckedUrl, UnsafeUrlError, check_url, host_header, pinned_url
from app.engine.webhook_request import WebhookRequest
from app.engine.webhook_tools import WebhookSendError

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class HttpWebhookSender:
    def __init__(self, *, allow_private_urls: bool) -> None:
        self._allow_private = allow_private_urls

    async def send(self, request: WebhookRequest, max_bytes: int) -> tuple[int, bytes]:
        url, method, first = request.url, request.method, None
        for _ in range(MAX_REDIRECTS + 1):
            try:
                checked = await check_url(url, allow_private=self._allow_private)
            except UnsafeUrlError as error:
                raise WebhookSendError("url_refused", str(error), called=False) from error
            if first is None:
                first = checked
            elif checked.origin() != first.origin():
                raise WebhookSendError(
                    "redirect_refused",
                    f"its server redirected to another host ({checked.host}); redirects are"
                    " followed on the same host only",
                    called=True,
                )
            try:
                status, location, body = await _exchange(
                    checked, method, request, max_bytes, original=checked is first
                )
            except httpx.HTTPError as error:
                raise WebhookSendError(
                    "unreachable", f"it could not be reached ({type(error).__name__})", called=True
                ) from error
            if status not in REDIRECT_STATUSES or location is None:
                return status, body
            url = urljoin(url, location)
            if status == 303:
                method = "GET"
        raise WebhookSendError(
            "redirect_refused", f"more than {MAX_REDIRECTS} redirects", called=True
        )


async def _exchange(
    checked: CheckedUrl, method: str, request: WebhookRequest, max_bytes: int, *, original: bool
) -> tuple[int, str | None, bytes]:
    """One exchange with the checked address (its name kept for Host and TLS)."""
    headers = {**request.headers, "host": host_header(checked)}
    content: dict[str, Any] = {}
    if original and request.body is not None and method in BODY_METHODS:
        if request.content_type == "application/x-www-form-urlencoded":
            content["data"] = {
                key: value if isinstance(value, str) else json.dumps(value)
                for key, value in request.body.items()
            }
        else:
            content["json"] = request.body
    async with (
        httpx.AsyncClient(follow_redirects=False, trust_env=False) as client,
        client.stream(
            method,
            pinned_url(checked),
            headers=headers,
            params=request.query if original else None,
            extensions={"sni_hostname": checked.host},
            **content,
        ) as response,
    ):
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > max_bytes:
                break
        return response.status_code, response.headers.get("location"), bytes(body)
