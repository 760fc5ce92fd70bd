"""The REST API's rates per organization and per API key, counted in memory and in real Redis,
on SQLite and on PostgreSQL: 429 with Retry-After and the error shape, the other tenant and the
other key untouched, health and metrics never limited."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from app.db.organizations import create_api_key
from app.db.session import Database
from app.limits.rates import KEY_PREFIX, rate_limits_for
from app.settings import Settings
from tests.api_app import build_api_app
from tests.redis_dbs import redis_url
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

# A database of its own: the keys are per organization (random ids) and expire by themselves.
REDIS_URL = redis_url(11)
AGENTS = "/v1/convai/agents"


@pytest.fixture(params=["memory", "redis"])
def rates_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """The rates' store: this process's memory, or the real Redis (unreachable fails)."""
    if request.param == "memory":
        yield ""
        return
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}); start it: make services")
    yield REDIS_URL
    client.close()


def limit(client: TestClient, redis_url: str, **rates: str) -> None:
    """Give the API these rates, kept where `redis_url` says."""
    app = client.app
    settings = Settings(redis_url=redis_url, **rates)  # type: ignore[arg-type]
    app.state.settings = app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"rate_limits_enabled": True}
    )
    app.state.rates = rate_limits_for(settings)  # type: ignore[attr-defined]


def statuses(client: TestClient, headers: dict[str, str], count: int) -> list[int]:
    return [client.get(AGENTS, headers=headers).status_code for _ in range(count)]


def test_a_key_over_its_rate_gets_429_with_when_to_come_back(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant, rates_store: str
) -> None:
    limit(client, rates_store, rate_limit_api_key="5/minute", rate_limit_organization="100/minute")
    assert statuses(client, tenant_a.headers, 5) == [200] * 5
    refused = client.get(AGENTS, headers=tenant_a.headers)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    detail = refused.json()["detail"]
    assert detail["status"] == "rate_limit_exceeded"
    assert "5/minute" in detail["message"]
    # The other organization is counted apart.
    assert statuses(client, tenant_b.headers, 5) == [200] * 5


def test_an_organization_is_limited_across_its_keys(
    client: TestClient, database: Database, tenant_a: Tenant, rates_store: str
) -> None:
    limit(client, rates_store, rate_limit_api_key="100/minute", rate_limit_organization="6/minute")
    with database.session() as session:
        _, second_key = create_api_key(session, tenant_a.organization_id, "second")
    second = {"xi-api-key": second_key}
    assert statuses(client, tenant_a.headers, 3) == [200] * 3
    assert statuses(client, second, 3) == [200] * 3
    assert client.get(AGENTS, headers=second).status_code == 429
    assert client.get(AGENTS, headers=tenant_a.headers).status_code == 429


def test_a_key_over_its_rate_leaves_the_other_keys_of_its_organization_alone(
    client: TestClient, database: Database, tenant_a: Tenant, rates_store: str
) -> None:
    limit(client, rates_store, rate_limit_api_key="3/minute", rate_limit_organization="100/minute")
    with database.session() as session:
        _, second_key = create_api_key(session, tenant_a.organization_id, "second")
    assert statuses(client, tenant_a.headers, 5) == [200] * 3 + [429] * 2
    assert statuses(client, {"xi-api-key": second_key}, 3) == [200] * 3


def test_requests_refused_before_the_rate_do_not_use_it(
    client: TestClient, tenant_a: Tenant, rates_store: str
) -> None:
    limit(client, rates_store, rate_limit_api_key="2/minute")
    unknown = {"xi-api-key": "vx_" + secrets.token_hex(16)}
    assert statuses(client, unknown, 5) == [401] * 5
    assert statuses(client, tenant_a.headers, 3) == [200, 200, 429]


def test_the_limits_can_be_turned_off(client: TestClient, tenant_a: Tenant) -> None:
    limit(client, "", rate_limit_api_key="1/minute")
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"rate_limits_enabled": False})  # type: ignore[attr-defined]
    assert statuses(client, tenant_a.headers, 4) == [200] * 4


def test_redis_holds_the_counters_that_every_process_shares(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    """Two API processes (two apps, each with its own limiter) on one Redis count together;
    in memory each would count alone."""
    limit(client, REDIS_URL, rate_limit_api_key="4/minute")
    with TestClient(build_api_app(database)) as other_process:
        limit(other_process, REDIS_URL, rate_limit_api_key="4/minute")
        assert statuses(client, tenant_a.headers, 2) == [200, 200]
        assert statuses(other_process, tenant_a.headers, 2) == [200, 200]
        assert client.get(AGENTS, headers=tenant_a.headers).status_code == 429
        assert other_process.get(AGENTS, headers=tenant_a.headers).status_code == 429
    stored = redis.Redis.from_url(REDIS_URL).keys(f"{KEY_PREFIX}*{tenant_a.organization_id}*")
    assert stored, "the counters are in Redis"


def test_health_and_metrics_are_not_limited(database: Database, tmp_path: Path) -> None:
    """The service's own routes that no tenant calls stay open whatever the rates."""
    from app.main import create_app

    settings = Settings(
        database_url=database.url,
        data_dir=tmp_path,
        rate_limit_api_key="1/minute",
        rate_limit_organization="1/minute",
    )
    with TestClient(create_app(settings, preload=False)) as service:
        for _ in range(5):
            assert service.get("/health").status_code == 200
            assert service.get("/metrics").status_code == 200
