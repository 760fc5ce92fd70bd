"""The web dashboard's static build, served at `/` beside the API.

The dashboard (`web_dashboard/`, a Next.js static export with trailing slashes) is plain files:
`/agents/` is `agents/index.html`, `/agents` redirects there, and a path with no file gets the
build's `404.html`. The API keeps every path it has: a request reaches these files only when it
is a GET or HEAD whose first path segment is no route's (`/v1/…`, `/twilio/…`, `/health`, the
OpenAPI pages), so an API client never gets a web page, and a wrong method still gets the API's
405. Hashed bundles under `/_next/static/` are cached for good; pages are revalidated each time.
Files go out gzip-compressed, from the build's own twins (`precompressed_files.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.precompressed_files import PrecompressedFiles

IMMUTABLE_PREFIX = "/_next/static/"
# Its security headers are every response's (app/api/security_headers.py).


def serve_dashboard(app: FastAPI, directory: Path, api_paths: Iterable[str]) -> None:
    """Serve the build in `directory` at `/` for the paths outside the API's (`api_paths`: every
    route's path, FastAPI's own OpenAPI pages added here)."""
    own = (app.openapi_url, app.docs_url, app.redoc_url)
    segments = frozenset(_first_segment(path) for path in (*api_paths, *own) if path)
    app.add_middleware(DashboardFiles, directory=directory, api_segments=segments)


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


class DashboardFiles:
    """ASGI middleware: a GET or HEAD outside the API's path segments is a dashboard file."""

    def __init__(self, app: ASGIApp, *, directory: Path, api_segments: frozenset[str]) -> None:
        self.app = app
        self.files = PrecompressedFiles(directory=directory, html=True)
        self._api_segments = api_segments

    def _claimed(self, path: str) -> bool:
        return _first_segment(path) in self._api_segments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or self._claimed(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        cache = (
            b"public, max-age=31536000, immutable"
            if scope["path"].startswith(IMMUTABLE_PREFIX)
            else b"no-cache"
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"cache-control", cache)]
            await send(message)

        await self.files(scope, receive, send_with_headers)
