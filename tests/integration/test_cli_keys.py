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
