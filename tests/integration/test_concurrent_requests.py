"""Many API requests at once (a dashboard, a bench, a busy integration) all succeed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

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
