"""The dialer bench's world: its own PostgreSQL database, the service on a real port, campaigns
and leads made through the API, the few statements that put the tables back between runs, the
workers' environment, and the claim query's plan.

Campaigns and leads go through the public API as a sales manager's would (a CSV upload, then
`start`). What a run leaves behind (attempts, leads taken, conversations) is undone here with
plain SQL between measured passes: that is the bench's bookkeeping, never part of a figure.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import redis
from annotated_types import Le
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import campaigns as campaign_rows
from app.db.migrate import upgrade
from app.db.models import utc_now
from app.db.session import Database
from app.outbound.campaign_runs import LOOK_AHEAD
from app.outbound.campaign_settings import DAY_NAMES, CampaignSettings
from bench.dialer_worker import is_claim_query
from tests.integration.dialer_service import seed_sales_organization

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "velox_bench_dialer"
REDIS_URL = "redis://127.0.0.1:6379/12"  # the integration tests use 14 and 15
# Numbers in four zones (New York, Chicago, Denver, San Francisco): each lead's zone comes from
# its number, as it does for a real list without a time-zone column.
AREA_CODES = ("212", "312", "303", "415")


def settings_maximum(name: str) -> int:
    """The largest value `CampaignSettings` accepts for the integer setting `name`."""
    for bound in CampaignSettings.model_fields[name].metadata:
        if isinstance(bound, Le) and isinstance(bound.le, int):
            return bound.le
    raise ValueError(f"CampaignSettings.{name} has no upper bound")


# Always open (every day, 00:00-24:00 in each lead's zone), at the limits the settings allow.
CAMPAIGN_SETTINGS: dict[str, Any] = {
    "calling_hours": {day: ["00:00-24:00"] for day in DAY_NAMES},
    "max_concurrent_calls": settings_maximum("max_concurrent_calls"),
    "calls_per_minute": settings_maximum("calls_per_minute"),
}


def services_missing() -> str:
    """Why the bench cannot run here ("" when PostgreSQL and Redis answer)."""
    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=3):
            pass
    except psycopg.OperationalError as error:
        return f"PostgreSQL is not reachable ({error}); start it: scripts/ensure_services.sh"
    broker = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        broker.ping()
    except redis.RedisError as error:
        return f"Redis is not reachable ({error}); start it: scripts/ensure_services.sh"
    finally:
        broker.close()
    return ""


def fresh_database(name: str) -> str:
    """Create the database `name` (dropping an old one), migrate it; its URL."""
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_SERVER}/{name}"
    upgrade(url)
    return url


def drop_database(name: str) -> None:
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True, slots=True)
class Tenant:
    api_key: str
    agent_id: str
    number_id: str


def seed(url: str) -> Tenant:
    """An organization with its API key, an agent, and the Twilio number the campaigns call from."""
    return Tenant(*seed_sales_organization(url, "Bench Sales"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def leads_csv(count: int) -> bytes:
    """A leads file of `count` distinct numbers spread over `AREA_CODES`, with two variables."""
    rows = ["phone_number,first_name,plan"]
    for n in range(count):
        area = AREA_CODES[n % len(AREA_CODES)]
        rows.append(f"+1{area}{2000000 + n // len(AREA_CODES):07d},Lead{n},gold")
    return ("\n".join(rows) + "\n").encode()


@dataclass(frozen=True, slots=True)
class Upload:
    imported: int
    rejected: int
    seconds: float


class CampaignApi:
    """The campaign endpoints, as the dashboard calls them."""

    def __init__(self, base_url: str, tenant: Tenant) -> None:
        self.tenant = tenant
        self._http = httpx.Client(
            base_url=base_url, headers={"xi-api-key": tenant.api_key}, timeout=600
        )

    def create(self, name: str) -> str:
        body = {
            "name": name,
            "agent_id": self.tenant.agent_id,
            "agent_phone_number_id": self.tenant.number_id,
            "settings": CAMPAIGN_SETTINGS,
        }
        campaign_id: str = self._ok(self._http.post("/v1/campaigns", json=body))["campaign_id"]
        return campaign_id

    def upload(self, campaign_id: str, csv: bytes) -> Upload:
        started = time.monotonic()
        response = self._http.post(
            f"/v1/campaigns/{campaign_id}/leads",
            content=csv,
            headers={"content-type": "text/csv"},
        )
        seconds = time.monotonic() - started
        body = self._ok(response)
        return Upload(body["imported"], body["rejected"], seconds)

    def start(self, campaign_id: str) -> None:
        state = self._ok(self._http.post(f"/v1/campaigns/{campaign_id}/start"))["state"]
        if state != "running":
            raise RuntimeError(f"campaign {campaign_id} is {state} after start")

    def close(self) -> None:
        self._http.close()

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 300:
            raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
        body: dict[str, Any] = response.json()
        return body


# --- the bench's bookkeeping between passes and runs (plain SQL, never timed) ---------------


def end_claimed_calls(url: str) -> None:
    """As if every claimed attempt's call had been answered and completed at once: the attempt
    ends, the lead is finished. Frees the campaign's places for the next pass."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "UPDATE call_attempts SET status = 'ended', outcome = 'completed', ended_at = now() "
            "WHERE status = 'claimed'"
        )
        db.execute(
            "UPDATE campaign_leads SET status = 'finished', last_outcome = 'completed', "
            "finished_reason = 'completed' WHERE status = 'calling'"
        )


def reset(url: str) -> None:
    """Every lead pending and never called, no attempts, no outbound conversations."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DELETE FROM call_attempts")
        db.execute("DELETE FROM calls WHERE direction = 'outbound'")
        db.execute(
            "UPDATE campaign_leads SET status = 'pending', attempts_made = 0, due_at = NULL, "
            "last_outcome = NULL, finished_reason = '' WHERE status <> 'pending' "
            "OR attempts_made <> 0"
        )
        db.execute("VACUUM ANALYZE campaign_leads, call_attempts, calls")


def split_leads(url: str, source: str, targets: list[str]) -> None:
    """Deal the leads of `source` out over it and `targets`, round robin by insertion order."""
    campaigns = [source, *targets]
    with psycopg.connect(url, autocommit=True) as db:
        for index, target in enumerate(targets, start=1):
            db.execute(
                "UPDATE campaign_leads SET campaign_id = %s WHERE campaign_id = %s "
                "AND seq %% %s = %s",
                (target, source, len(campaigns), index),
            )


def scalar(url: str, query: str, *params: object) -> Any:
    with psycopg.connect(url) as db:
        row = db.execute(query, params).fetchone()
        return None if row is None else row[0]


# --- the claim query as PostgreSQL runs it ---------------------------------------------------


def claim_plan(url: str, campaign_id: str) -> list[str]:
    """PostgreSQL's plan (EXPLAIN ANALYZE) for the claim query exactly as the dialer sends it,
    on `campaign_id`, in a transaction that is rolled back."""
    database = Database(url)
    sent: list[tuple[str, object]] = []

    def capture(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if is_claim_query(statement):
            sent.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    may_start = int(CAMPAIGN_SETTINGS["max_concurrent_calls"])
    try:
        with database.engine.connect() as connection, Session(bind=connection) as session:
            campaign_rows.due_leads(session, campaign_id, utc_now(), may_start + LOOK_AHEAD)
            statement, parameters = sent[0]
            explained = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE) " + statement,
                parameters,  # type: ignore[arg-type]
            )
            plan = [str(line) for line in explained.scalars()]
            session.rollback()
    finally:
        database.dispose()
    return plan
