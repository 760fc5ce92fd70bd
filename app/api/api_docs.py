"""The API's documentation page, served from this service alone: Swagger UI at `/docs`, its
script and styles from the `fastapi-offline` package at `/docs-static/` (FastAPI's own pages load
them from jsDelivr, which an offline machine cannot reach and the service's content security
policy does not allow). There is no ReDoc page: ReDoc always fetches its logo from
cdn.redoc.ly, which no file of ours can stop."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL = "/docs"
STATIC_URL = "/docs-static"
# Paths the page takes (the dashboard serves none of them).
PATHS = (DOCS_URL, STATIC_URL)
_FILES = Path(fastapi_offline.__file__).parent / "static"


def serve_api_docs(app: FastAPI) -> None:
    """Add the page to `app`, which was made with `docs_url=None, redoc_url=None`."""
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"
    app.mount(STATIC_URL, StaticFiles(directory=_FILES), name="api-docs-files")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
