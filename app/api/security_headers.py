"""Security headers on every HTTP response (API, dashboard, field app), and CORS.

Every response says: no MIME sniffing, no framing by another site (`X-Frame-Options` and CSP's
`frame-ancestors`), the referrer only to this origin, and a Content Security Policy that names no
external source: scripts, styles, images, fonts, media, workers and connections come from this
origin (inline scripts and styles allowed for the dashboard's static export, which inlines its
boot code; `blob:` for the audio worklets and recordings the pages build; `data:` images and
fonts); the API's documentation page too, whose files the service serves itself
(`api_docs.py`). `Strict-Transport-Security` is sent when the service's public URL is https. A
response that set one of these headers itself keeps its own.

CORS: browsers on other origins get no access unless `VELOX_CORS_ALLOWED_ORIGINS` names them
(none by default); the dashboard and the field app are served from the service's own origin.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = b"max-age=31536000; includeSubDomains"


def _headers(policy: str, https: bool) -> tuple[tuple[bytes, bytes], ...]:
    common = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", policy.encode()),
    )
    return (*common, (b"strict-transport-security", HSTS)) if https else common


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response's start."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self._headers = _headers(POLICY, https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self._headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in added if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secure_responses(app: FastAPI, *, public_url: str, cors_origins: list[str]) -> None:
    """Add the headers (outermost, so every response gets them) and CORS when configured.
    Call it after every other middleware."""
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["xi-api-key", "authorization", "content-type", "idempotency-key"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, https=public_url.lower().startswith("https://"))
