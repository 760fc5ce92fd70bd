"""The field agents' app served at /m/: its files, index.html for its own screens, the service
worker never cached and scoped to /m/, hashed bundles cached for good, the API untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.mobile_app_files import serve_mobile_app

pytestmark = pytest.mark.unit

INDEX = "<!doctype html><title>Velox Field</title>"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "sw.js").write_text("self.addEventListener('push', () => {});")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1);")
    (tmp_path / "manifest.webmanifest").write_text('{"name": "Velox Field"}')
    app = FastAPI()

    @app.get("/v1/me")
    def me() -> dict[str, str]:
        return {"role": "field_agent"}

    serve_mobile_app(app, tmp_path)
    return TestClient(app)


def test_the_app_opens_at_m_and_at_each_of_its_screens(client: TestClient) -> None:
    for path in ("/m/", "/m/leads/lead-1", "/m/settings"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"
    bare = client.get("/m", follow_redirects=False)
    assert bare.status_code in (307, 308)
    assert bare.headers["location"].endswith("/m/")


def test_the_service_worker_is_never_cached_and_may_control_all_of_m(client: TestClient) -> None:
    response = client.get("/m/sw.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/m/"


def test_hashed_bundles_are_cached_for_good_and_missing_files_are_404(client: TestClient) -> None:
    bundle = client.get("/m/assets/index-abc123.js")
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/m/assets/gone-000.js").status_code == 404
    assert client.get("/m/manifest.webmanifest").json() == {"name": "Velox Field"}
    assert client.get("/m/../pyproject.toml").status_code == 404


def test_the_api_and_other_methods_are_not_the_apps(client: TestClient) -> None:
    assert client.get("/v1/me").json() == {"role": "field_agent"}
    assert client.post("/m/").status_code == 405
