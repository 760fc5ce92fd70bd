"""The dashboard with a campaign dialer behind it, for the campaign pages' browser tests: the
built dashboard served by the real service on a real port over PostgreSQL, a Celery worker
process on Redis that dials through the real `twilio` client into the Twilio REST double, and
Twilio's signed status callbacks played by the test. Ticks are sent by the test (no beat), so
the dialer moves exactly when the test says."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from celery import Celery
from twilio.request_validator import RequestValidator

from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import organizations as org_queries
from app.db import phone_numbers as number_queries
from app.db.migrate import upgrade
from app.db.session import Database
from app.main import create_app
from app.people import accounts
from app.people.roles import Role
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.e2e.dashboard_app import ensure_dashboard_build
from tests.e2e.twilio_rest_double import TwilioRestDouble, twilio_rest_double
from tests.integration.dialer_service import TICK
from tests.integration.worker_processes import Worker, flushed_redis, start_worker
from tests.live_server import free_port, serve
from tests.redis_dbs import redis_url
from workers.celery_app import make_celery

# A Redis database of its own (the dialer's integration tests use 14, live calls 13, workers 15).
REDIS_URL = redis_url(12)
ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "campaign-pages-token-0123456789abcdef"
PASSWORD = "correct horse battery staple"
CALLER_ID = "+12125550100"


@dataclass
class CampaignService:
    base_url: str
    database: Database
    organization_id: str
    api_key: str
    rest: TwilioRestDouble
    celery: Celery
    worker: Worker

    def manager(self, email: str) -> str:
        """A manager with a password (invited, the invite accepted over the API); their email."""
        with self.database.session() as session:
            _, token = accounts.invite_user(
                session,
                self.organization_id,
                email,
                Role.MANAGER,
                accounts.AccountRules(),
                actor="test",
            )
        accepted = httpx.post(
            f"{self.base_url}/v1/auth/invite/accept", json={"token": token, "password": PASSWORD}
        )
        accepted.raise_for_status()
        return email

    def tick(self, now: datetime) -> dict[str, Any]:
        """One pass of the dialer, run by the worker."""
        result: dict[str, Any] = self.celery.send_task(TICK, kwargs={"now": now.isoformat()}).get(
            timeout=30
        )
        return result

    def attempts(self, campaign_id: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.base_url}/v1/campaigns/{campaign_id}/attempts",
            headers={"xi-api-key": self.api_key},
        )
        response.raise_for_status()
        body: list[dict[str, Any]] = response.json()
        return body

    def twilio_reports(self, attempt: dict[str, Any], status: str, **extra: str) -> None:
        """Twilio's signed status callback for the attempt's call."""
        url = f"{self.base_url}/twilio/status?conversation_id={attempt['conversation_id']}"
        form = {"AccountSid": ACCOUNT_SID, "CallSid": attempt["call_sid"], "CallStatus": status}
        form |= extra
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
        response = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 204, response.text

    def worker_log(self) -> str:
        return self.worker.log.read_text(errors="replace")[-3000:]


@contextmanager
def campaign_service(database_url: str, tmp_path: Path) -> Iterator[CampaignService]:
    build = ensure_dashboard_build()
    upgrade(database_url)
    port = free_port()
    with flushed_redis(REDIS_URL), twilio_rest_double() as rest:
        settings = Settings(
            _env_file=None,
            data_dir=tmp_path,
            database_url=database_url,
            broker_url=REDIS_URL,
            result_backend=REDIS_URL,
            public_url=f"http://127.0.0.1:{port}",
            port=port,
            dashboard_dir=build,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_api_base_url=rest.base_url,
            dial_time_limit_s=4,
        )
        database = Database(database_url)
        organization_id, api_key = _seed(database)
        app = create_app(settings, providers=ProviderRegistry(), preload=False)
        celery = make_celery(settings)
        velox = str(Path(sys.executable).with_name("velox"))
        worker = start_worker(
            [velox, "worker", "--no-beat", "--concurrency=1"], settings, tmp_path / "worker.log"
        )
        try:
            with serve(app, port) as base_url:
                yield CampaignService(
                    base_url, database, organization_id, api_key, rest, celery, worker
                )
        finally:
            worker.stop()
            celery.close()
            database.dispose()


def _seed(database: Database) -> tuple[str, str]:
    """An organization with an agent and the Twilio number its campaigns call from; its id and
    API key."""
    with database.session() as session:
        organization, key = org_queries.create_organization(session, "Acme Sales")
        agent = agent_queries.create_agent(session, organization.id, AgentConfig(name="Sales rep"))
        number_queries.create_phone_number(
            session,
            organization.id,
            phone_number=CALLER_ID,
            label="sales",
            provider="twilio",
            agent_id=agent.id,
        )
        return organization.id, key
