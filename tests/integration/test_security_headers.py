"""The service's responses defend the browser: security headers on the API's answers (errors
included) and the dashboard's pages, a Content Security Policy with no external source, HSTS
only behind https, no CORS unless origins are configured, and the sign-in cookies' flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.db import organizations as org_queries
from app.main import create_app
from app.people import accounts
from app.people.roles import Role
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.people import PASSWORD

pytestmark = pytest.mark.integration

OTHER_ORIGIN = "https://ops.example.com"


def app_client(tmp_path: Path, public_url: str, **settings: object) -> TestClient:
    dashboard = tmp_path / "out"
    dashboard.mkdir(exist_ok=True)
    (dashboard / "index.html").write_text("<!doctype html><title>home</title>")
    config = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'velox.db'}",
        dashboard_dir=dashboard,
        public_url=public_url,
        **settings,  # type: ignore[arg-type]
    )
    from app.db.migrate import upgrade

    upgrade(config.resolved_database_url())
    app = create_app(config, providers=ProviderRegistry(), preload=False)
    return TestClient(app, base_url=public_url)


def assert_defended(headers: dict[str, str] | object) -> str:
    get = headers.get  # type: ignore[attr-defined]
    assert get("x-content-type-options") == "nosniff"
    assert get("x-frame-options") == "DENY"
    assert get("referrer-policy") == "same-origin"
    policy: str = get("content-security-policy")
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    # No external source: nothing but this origin, inline, blob: and data:.
    assert "http" not in policy, policy
    assert "*" not in policy, policy
    return policy


def test_api_answers_errors_and_dashboard_pages_carry_the_headers(tmp_path: Path) -> None:
    client = app_client(tmp_path, "http://velox.example.com")
    answers = [
        client.get("/health"),  # 503 here: the app's lifespan (its node) is not started
        client.get("/v1/convai/agents"),  # 401: no credential
        client.get("/v1/no-such-route"),  # 404
        client.post("/v1/convai/agents/create", content=b"{", headers={"xi-api-key": "x"}),
        client.get("/"),  # the dashboard's page
    ]
    assert [a.status_code for a in answers][1:3] == [401, 404]
    assert "<title>home</title>" in answers[-1].text
    for answer in answers:
        assert_defended(answer.headers)
        # Plain http: a browser must not be told to insist on https.
        assert "strict-transport-security" not in answer.headers


def test_https_public_url_adds_hsts(tmp_path: Path) -> None:
    client = app_client(tmp_path, "https://velox.example.com")
    for path in ("/health", "/"):
        hsts = client.get(path).headers["strict-transport-security"]
        assert hsts.startswith("max-age=31536000")


def test_the_api_docs_pages_load_only_the_services_own_files(tmp_path: Path) -> None:
    client = app_client(tmp_path, "http://velox.example.com")
    answer = client.get("/docs")
    assert answer.status_code == 200
    assert "text/html" in answer.headers["content-type"]
    assert_defended(answer.headers)  # the policy every response has: no other site
    assert "://" not in answer.text  # nothing to load from elsewhere
    assets = re.findall(r'(?:src|href)="(/docs-static/[^"]+)"', answer.text)
    assert len(assets) == 3  # script, styles, icon
    for asset in assets:
        loaded = client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 1000


def preflight(client: TestClient, origin: str) -> dict[str, str]:
    answer = client.options(
        "/v1/convai/agents",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "xi-api-key",
        },
    )
    return dict(answer.headers)


def test_no_origin_is_allowed_by_default(tmp_path: Path) -> None:
    client = app_client(tmp_path, "http://velox.example.com")
    assert "access-control-allow-origin" not in preflight(client, OTHER_ORIGIN)
    plain = client.get("/health", headers={"Origin": OTHER_ORIGIN})
    assert "access-control-allow-origin" not in plain.headers


def test_configured_origins_and_only_they_are_allowed(tmp_path: Path) -> None:
    client = app_client(tmp_path, "http://velox.example.com", cors_allowed_origins=[OTHER_ORIGIN])
    allowed = preflight(client, OTHER_ORIGIN)
    assert allowed["access-control-allow-origin"] == OTHER_ORIGIN
    assert "xi-api-key" in allowed["access-control-allow-headers"].lower()
    # Credentials (the dashboard's cookies) are never offered to another origin.
    assert "access-control-allow-credentials" not in allowed
    assert "access-control-allow-origin" not in preflight(client, "https://evil.example")


def signed_in_cookies(client: TestClient) -> dict[str, str]:
    database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        organization, _ = org_queries.create_organization(session, "Acme")
        _, token = accounts.invite_user(
            session,
            organization.id,
            "lead@example.com",
            Role.MANAGER,
            accounts.AccountRules(),
            actor="test",
        )
    accepted = client.post("/v1/auth/invite/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code < 300, accepted.text
    signed = client.post(
        "/v1/auth/sign-in", json={"email": "lead@example.com", "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    assert_defended(signed.headers)
    return {line.split("=", 1)[0]: line for line in signed.headers.get_list("set-cookie")}


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_the_sign_in_cookies_flags(tmp_path: Path, scheme: str) -> None:
    cookies = signed_in_cookies(app_client(tmp_path, f"{scheme}://velox.example.com"))
    session, csrf = cookies["velox_session"], cookies["velox_csrf"]
    flags = [f.strip().lower() for f in session.split(";")]
    assert "httponly" in flags  # no script reads the session
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert any(f.startswith("max-age=") for f in flags)
    csrf_flags = [f.strip().lower() for f in csrf.split(";")]
    assert "httponly" not in csrf_flags  # the dashboard's script reads it to send it back
    assert "samesite=lax" in csrf_flags
    # Secure exactly when the service is reached over https.
    assert ("secure" in flags) is (scheme == "https")
    assert ("secure" in csrf_flags) is (scheme == "https")
