"""The field agents' app (`mobile_app/`, a Vite build for `/m/`) served at `/m/` beside the API.

The build is plain files. A path under `/m/` with a file is that file; any other path without a
file extension is one of the app's own screens (`/m/leads/<id>`, `/m/settings`) and gets
`index.html`, so a reload or a notification's link opens the app there; a missing file with an
extension is a 404. The service worker `/m/sw.js` is never cached by the HTTP cache (a new build
reaches phones at their next visit) and says its scope with `Service-Worker-Allowed: /m/`;
hashed bundles under `/m/assets/` are cached for good; the rest is revalidated each time. Only
GET and HEAD reach these files: no API path starts with `/m/`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from app.api.precompressed_files import PrecompressedFiles

PREFIX = "/m"
SERVICE_WORKER = "sw.js"
IMMUTABLE_DIR = "assets/"
# Its security headers are every response's (app/api/security_headers.py).


def serve_mobile_app(app: FastAPI, directory: Path) -> None:
    """Mount the build in `directory` at `/m/`."""
    app.mount(PREFIX, MobileAppFiles(directory), name="mobile_app")


class MobileAppFiles:
    """ASGI app for the paths under `/m/`: the build's files, `index.html` for the app's routes."""

    def __init__(self, directory: Path) -> None:
        self.files = PrecompressedFiles(directory=directory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await _reply(send, 405, b"method not allowed", [(b"allow", b"GET, HEAD")])
            return
        relative = self.files.get_path(scope)  # the path below /m/, "." for /m/ itself
        if relative in (".", ""):
            relative = "index.html"
        if relative == SERVICE_WORKER:
            extra = [(b"cache-control", b"no-cache"), (b"service-worker-allowed", b"/m/")]
        elif relative.startswith(IMMUTABLE_DIR):
            extra = [(b"cache-control", b"public, max-age=31536000, immutable")]
        else:
            extra = [(b"cache-control", b"no-cache")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            response = await self.files.get_response(relative, scope)
        except HTTPException as missing:
            if missing.status_code != 404 or PurePosixPath(relative).suffix:
                raise
            response = await self.files.get_response("index.html", scope)  # an app route
        await response(scope, receive, send_with_headers)


async def _reply(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
