"""Database and API fixtures: every persistence test runs on SQLite and on real PostgreSQL."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.migrate import upgrade
from app.db.models import Base
from app.db.organizations import create_organization
from app.db.session import Database
from tests.api_app import build_api_app
from tests.tenants import Tenant

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
BACKENDS = ["sqlite", "postgresql"]
# The markers of the tests that run alone in `make test` (after the rest, which runs on one
# worker per core): those that load the real models, and those that hold a latency bound.
ALONE = ("models", "timing")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--alone",
        choices=("with", "without", "only"),
        default="with",
        help="the tests marked models or timing: run them with the rest (the default), "
        "leave them out (the parallel part of `make test`), or run only them (its serial part)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Select by `--alone`."""
    choice = config.getoption("--alone")
    if choice == "with":
        return
    wanted = choice == "only"
    kept = [item for item in items if _runs_alone(item) == wanted]
    dropped = [item for item in items if _runs_alone(item) != wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _runs_alone(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) is not None for name in ALONE)


def _postgres_reachable() -> bool:
    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _start_postgres() -> None:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    for version in versions:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )


def _admin(sql: str) -> None:
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


class PostgresDatabases:
    """Creates throwaway databases on the local server and drops them all at the end."""

    def __init__(self) -> None:
        self.prefix = f"velox_test_{secrets.token_hex(4)}"
        self.created: list[str] = []

    def create(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        _admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{POSTGRES_SERVER}/{name}"

    def drop_all(self) -> None:
        for name in self.created:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """The local PostgreSQL server, started if it is down; unreachable fails, never skips."""
    if not _postgres_reachable():
        _start_postgres()
        deadline = time.monotonic() + 20
        while not _postgres_reachable() and time.monotonic() < deadline:
            time.sleep(0.5)
    if not _postgres_reachable():
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_SERVER} and could not be started")
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_databases: PostgresDatabases) -> str:
    """One PostgreSQL database per test session, migrated once and emptied after each test."""
    url = postgres_databases.create()
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases
) -> str:
    """A URL of a database with no tables yet, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'velox.db'}"
    return postgres_databases.create()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'velox.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("migrated_postgres_url")
    database = Database(url)
    yield database
    if request.param == "postgresql":
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with database.session() as session:
            session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()


@pytest.fixture
def tenant_a(database: Database) -> Tenant:
    with database.session() as session:
        organization, key = create_organization(session, "Acme Sales")
    return Tenant(organization.id, key)


@pytest.fixture
def tenant_b(database: Database) -> Tenant:
    with database.session() as session:
        organization, key = create_organization(session, "Globex Support")
    return Tenant(organization.id, key)


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    """An HTTP client for the REST API over the test database."""
    with TestClient(build_api_app(database)) as test_client:
        yield test_client
