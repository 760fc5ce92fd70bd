"""`velox orgs keys create ORG`: a new API key for an existing organization (a lost key cannot be
shown again, so this is how an operator recovers access)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.db.organizations import create_organization, organizations_named
from app.db.session import Database
from app.settings import get_settings
from tests.api_app import build_api_app

pytestmark = pytest.mark.integration


@pytest.fixture
def velox(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VELOX_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()

    def run(*argv: str) -> tuple[int, str, str]:
        status = cli.main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out.strip(), captured.err.strip()

    yield run, empty_database_url
    get_settings.cache_clear()


def test_a_new_key_opens_the_organization_by_name_or_id(velox) -> None:  # type: ignore[no-untyped-def]
    run, url = velox
    status, first_key, _ = run("orgs", "create", "Acme")
    assert status == 0
    database = Database(url)
    client = TestClient(build_api_app(database))
    assert client.get("/v1/convai/agents", headers={"xi-api-key": first_key}).status_code == 200
    with database.session() as session:
        (organization_id,) = [o.id for o in organizations_named(session, "Acme")]
    for name_or_id in ("Acme", organization_id):
        status, new_key, _ = run("orgs", "keys", "create", name_or_id, "--label", "recovery")
        assert status == 0
        assert new_key.startswith("vx_")
        assert new_key != first_key
        assert client.get("/v1/convai/agents", headers={"xi-api-key": new_key}).status_code == 200
    database.dispose()


def test_an_unknown_or_ambiguous_organization_is_refused_with_a_reason(velox) -> None:  # type: ignore[no-untyped-def]
    run, url = velox
    run("orgs", "create", "Twin")
    database = Database(url)
    with database.session() as session:
        create_organization(session, "Twin")
    database.dispose()
    status, out, err = run("orgs", "keys", "create", "Nobody")
    assert (status, out) == (2, "")
    assert "no organization" in err
    status, out, err = run("orgs", "keys", "create", "Twin")
    assert (status, out) == (2, "")
    assert "2 organizations are named 'Twin'" in err


def test_velox_users_create_prints_an_invite_url_that_lets_the_person_in(velox) -> None:  # type: ignore[no-untyped-def]
    run, url = velox
    run("orgs", "create", "default")
    status, out, _ = run("users", "create", "Boss@Example.com", "--role", "admin")
    assert status == 0
    invite_url = out.splitlines()[-1]
    assert invite_url.startswith(get_settings().resolved_public_url() + "/invite?token=vi_")
    token = invite_url.split("token=", 1)[1]
    database = Database(url)
    client = TestClient(build_api_app(database))
    password = "a long enough password"
    accepted = client.post("/v1/auth/invite/accept", json={"token": token, "password": password})
    assert accepted.json() == {"email": "boss@example.com", "role": "admin"}
    signed = client.post(
        "/v1/auth/sign-in", json={"email": "boss@example.com", "password": password}
    ).json()
    headers = {"Authorization": f"Bearer {signed['token']}"}
    users = client.get("/v1/users", headers=headers).json()["users"]
    assert [(u["email"], u["status"]) for u in users] == [("boss@example.com", "active")]
    # The same address again is refused; a new invite is how a forgotten password is reset.
    assert run("users", "create", "boss@example.com", "--role", "support")[0] == 2
    status, out, _ = run("users", "invite", "boss@example.com")
    assert status == 0
    assert "/invite?token=vi_" in out.splitlines()[-1]
    database.dispose()


def test_a_scoped_key_from_the_cli_may_only_read_calls(velox) -> None:  # type: ignore[no-untyped-def]
    run, url = velox
    run("orgs", "create", "Acme")
    status, key, _ = run("orgs", "keys", "create", "Acme", "--scope", "calls:read")
    assert status == 0
    database = Database(url)
    client = TestClient(build_api_app(database))
    headers = {"xi-api-key": key}
    assert client.get("/v1/convai/conversations", headers=headers).status_code == 200
    assert client.get("/v1/convai/agents", headers=headers).status_code == 403
    database.dispose()
