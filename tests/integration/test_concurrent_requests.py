"""Many API requests at once (a dashboard, a bench, a busy integration) all succeed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, select

from app.db.models import ApiKey
from app.db.session import Database
from tests.api_app import build_api_app
from tests.live_server import free_port, serve
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def test_many_parallel_authenticated_reads_all_succeed(
    database: Database, tenant_a: Tenant
) -> None:
    with serve(build_api_app(database), free_port()) as url:

        def read(_: int) -> int:
            return httpx.get(f"{url}/v1/convai/agents", headers=tenant_a.headers).status_code

        with ThreadPoolExecutor(max_workers=48) as pool:
            statuses = list(pool.map(read, range(240)))
    assert statuses == [200] * 240


def test_a_keys_use_is_recorded(database: Database, tenant_a: Tenant) -> None:
    with serve(build_api_app(database), free_port()) as url:
        assert httpx.get(f"{url}/v1/convai/agents", headers=tenant_a.headers).status_code == 200
    with database.session() as session:
        key = session.scalar(
            select(ApiKey).where(ApiKey.organization_id == tenant_a.organization_id)
        )
        assert key is not None
        assert key.last_used_at is not None


def one_connection(database: Database) -> Database:
    """The same database through a pool of one connection: a request that asks for a second
    while it holds the first never gets it (the pool gives up after 2 s)."""
    sqlite = database.url.startswith("sqlite")
    engine = create_engine(
        database.url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=2,
        connect_args={"check_same_thread": False} if sqlite else {},
    )
    return Database(database.url, engine=engine)


def test_a_request_holds_one_database_connection_at_a_time(
    database: Database, tenant_a: Tenant
) -> None:
    """A request once held its connection while it asked for another to record its key's use:
    as many of them at once as the pool had connections all waited (for the pool's 30 s
    timeout). With a pool of one, a single request shows it."""
    narrow = one_connection(database)
    try:
        with serve(build_api_app(narrow), free_port()) as url:
            response = httpx.get(f"{url}/v1/convai/agents", headers=tenant_a.headers, timeout=10)
    finally:
        narrow.dispose()
    assert response.status_code == 200, response.text
    with database.session() as session:
        key = session.scalar(
            select(ApiKey).where(ApiKey.organization_id == tenant_a.organization_id)
        )
        assert key is not None
        assert key.last_used_at is not None  # its first use, in a transaction of its own
