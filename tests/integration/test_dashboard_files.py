"""The dashboard's static build is served at `/`, and every API path stays the API's."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.providers.registry import ProviderRegistry
from app.settings import Settings

pytestmark = pytest.mark.integration


def _build(directory: Path) -> Path:
    """A static export as `next build` writes one (trailing slashes)."""
    files = {
        "index.html": "<title>home</title>",
        "404.html": "<title>not found</title>",
        "agents/index.html": "<title>agents</title>",
        "agents/edit/index.html": "<title>agent editor</title>",
        "_next/static/chunks/main-0123abcd.js": "console.log('bundle')",
    }
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        dashboard_dir=_build(tmp_path / "out"),
    )
    return TestClient(create_app(settings, providers=ProviderRegistry(), preload=False))


def test_the_dashboard_pages_are_served_at_their_paths(client: TestClient) -> None:
    home = client.get("/")
    editor = client.get("/agents/edit/?id=agent_123")

    assert home.status_code == 200
    assert "<title>home</title>" in home.text
    assert home.headers["content-type"].startswith("text/html")
    assert home.headers["cache-control"] == "no-cache"
    assert home.headers["x-frame-options"] == "DENY"
    assert "<title>agent editor</title>" in editor.text


def test_a_page_without_its_trailing_slash_redirects_keeping_the_query(client: TestClient) -> None:
    page = client.get("/agents?search=x", follow_redirects=False)
    assert page.status_code == 307
    assert page.headers["location"].endswith("/agents/?search=x")


def test_an_unknown_page_gets_the_dashboards_not_found_page(client: TestClient) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "<title>not found</title>" in response.text


def test_hashed_bundles_are_cached_for_good(client: TestClient) -> None:
    response = client.get("/_next/static/chunks/main-0123abcd.js")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_api_paths_answer_as_the_api_even_where_no_route_matches(client: TestClient) -> None:
    unknown = client.get("/v1/no-such-thing")
    signed_out = client.get("/v1/me")
    wrong_method = client.put("/v1/convai/agents")
    health = client.get("/health")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/json"
    assert signed_out.status_code == 401
    assert signed_out.json()["detail"]["status"] == "invalid_api_key"
    assert wrong_method.status_code == 405
    assert health.headers["content-type"] == "application/json"


def test_only_reads_reach_the_dashboard(client: TestClient) -> None:
    response = client.post("/agents/")

    assert response.status_code in (404, 405)
    assert "<title>" not in response.text


def test_without_a_build_there_is_no_dashboard(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        dashboard_dir=tmp_path / "missing",
    )
    client = TestClient(create_app(settings, providers=ProviderRegistry(), preload=False))

    assert client.get("/").status_code == 404
