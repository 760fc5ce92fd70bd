"""The running service of the campaign and worker integration tests: PostgreSQL, Redis, the
API on a real port, a Twilio REST double, a Celery client and worker processes (the `dialer`
fixture), and a business's webhook receiver."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import redis
from celery import Celery
from twilio.request_validator import RequestValidator

from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import organizations as org_queries
from app.db import phone_numbers as number_queries
from app.db.migrate import upgrade
from app.db.session import Database
from app.main import create_app
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.e2e.twilio_rest_double import TwilioRestDouble, twilio_rest_double
from tests.integration.worker_processes import Worker, flushed_redis, start_worker
from tests.live_server import free_port, serve
from tests.local_http import QuietHandler, serving
from tests.redis_dbs import redis_url
from workers.celery_app import make_celery

if TYPE_CHECKING:
    from tests.conftest import PostgresDatabases


REDIS_URL = redis_url(14)
AUTH_TOKEN = "dialer-test-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32
CALLER_ID = "+12125550100"
TICK = "workers.dialer.tick"


def new_york_numbers(count: int, first: int = 2000000) -> list[str]:
    return [f"+1212{first + n:07d}" for n in range(count)]


@dataclass
class Dialer:
    """The service, the Twilio double, a Celery client and the workers of one test."""

    base_url: str
    api_key: str
    settings: Settings
    rest: TwilioRestDouble
    celery: Celery
    agent_id: str
    number_id: str
    tmp_path: Path
    workers: list[Worker] = field(default_factory=list)
    validator: RequestValidator = field(default_factory=lambda: RequestValidator(AUTH_TOKEN))

    @property
    def headers(self) -> dict[str, str]:
        return {"xi-api-key": self.api_key}

    def start_workers(self, count: int, command: list[str] | None = None) -> list[Worker]:
        started = []
        for _ in range(count):
            name = f"w{len(self.workers)}"
            velox = str(Path(sys.executable).with_name("velox"))
            argv = (
                [*command, name] if command else [velox, "worker", "--no-beat", "--concurrency=1"]
            )
            worker = start_worker(argv, self.settings, self.tmp_path / f"{name}.log", wait=False)
            self.workers.append(worker)
            started.append(worker)
        for worker in started:
            worker.wait_until_ready()
        return started

    def api(self, method: str, path: str, **options: Any) -> httpx.Response:
        response = httpx.request(
            method, f"{self.base_url}{path}", headers=self.headers, timeout=60, **options
        )
        assert response.status_code < 300, (response.status_code, response.text)
        return response

    def campaign(self, numbers: list[str], *, start: bool = True, **settings: Any) -> str:
        """A campaign of these numbers (one CSV row each), started unless told otherwise."""
        body = {
            "name": "January outreach",
            "agent_id": self.agent_id,
            "agent_phone_number_id": self.number_id,
            "settings": {"retry": {"rules": {}}, **settings},
        }
        campaign_id: str = self.api("POST", "/v1/campaigns", json=body).json()["campaign_id"]
        csv = "phone_number,first_name\n" + "".join(f"{n},Lead{i}\n" for i, n in enumerate(numbers))
        uploaded = self.api("POST", f"/v1/campaigns/{campaign_id}/leads", content=csv).json()
        assert uploaded["imported"] == len(numbers), uploaded
        if start:
            self.api("POST", f"/v1/campaigns/{campaign_id}/start")
        return campaign_id

    def tick(self, now: datetime) -> dict[str, Any]:
        result: dict[str, Any] = self.celery.send_task(TICK, kwargs={"now": now.isoformat()}).get(
            timeout=30
        )
        return result

    def wait_for_dials(self, count: int, timeout: float = 20.0) -> list[str]:
        """The numbers Twilio was asked to call, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while len(self.rest.created) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        dialed = [r.form["To"] for r in self.rest.created]
        assert len(dialed) >= count, (dialed, self.worker_logs())
        return dialed

    def settle(self, seconds: float = 1.5) -> None:
        """Let any dial still in flight arrive (to show that none does)."""
        time.sleep(seconds)

    def attempts(self, campaign_id: str) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = self.api("GET", f"/v1/campaigns/{campaign_id}/attempts").json()
        return body

    def wait_for_attempts(self, campaign_id: str, status: str, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            matching = [a for a in self.attempts(campaign_id) if a["status"] == status]
            if len(matching) >= count:
                return matching
            time.sleep(0.1)
        raise AssertionError((self.attempts(campaign_id), self.worker_logs()))

    def twilio_reports(self, attempt: dict[str, Any], status: str, **extra: str) -> None:
        """Twilio's signed status callback for the attempt's call."""
        url = f"{self.base_url}/twilio/status?conversation_id={attempt['conversation_id']}"
        form = {"AccountSid": ACCOUNT_SID, "CallSid": attempt["call_sid"], "CallStatus": status}
        form |= extra
        signature = self.validator.compute_signature(url, form)
        response = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 204, response.text

    def campaign_state(self, campaign_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.api("GET", f"/v1/campaigns/{campaign_id}").json()
        return body

    def worker_logs(self) -> str:
        return "\n".join(w.log.read_text(errors="replace")[-1500:] for w in self.workers)


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    with flushed_redis(REDIS_URL) as client:
        yield client


def seed_sales_organization(url: str, name: str) -> tuple[str, str, str]:
    """An organization with an agent and the Twilio number its campaigns call from.

    Returns its API key, the agent's id and the number's id.
    """
    database = Database(url)
    with database.session() as session:
        organization, key = org_queries.create_organization(session, name)
        agent = agent_queries.create_agent(session, organization.id, AgentConfig(name="Rep"))
        number = number_queries.create_phone_number(
            session,
            organization.id,
            phone_number=CALLER_ID,
            label="sales",
            provider="twilio",
            agent_id=agent.id,
        )
        ids = (key, agent.id, number.id)
    database.dispose()
    return ids


@pytest.fixture
def dialer(
    redis_db: redis.Redis, postgres_databases: PostgresDatabases, tmp_path: Path
) -> Iterator[Dialer]:
    url = postgres_databases.create()
    upgrade(url)
    port = free_port()
    with twilio_rest_double() as rest:
        settings = Settings(
            data_dir=tmp_path,
            database_url=url,
            broker_url=REDIS_URL,
            result_backend=REDIS_URL,
            public_url=f"http://127.0.0.1:{port}",
            port=port,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_api_base_url=rest.base_url,
            dial_time_limit_s=4,
            webhook_retry_base_s=0.5,
            # The business's webhook receiver is on this machine.
            allow_private_urls=True,
        )
        ids = seed_sales_organization(url, "Acme Sales")
        app = create_app(settings, providers=ProviderRegistry(), preload=False)
        celery = make_celery(settings)
        with serve(app, port) as base_url:
            running = Dialer(base_url, ids[0], settings, rest, celery, ids[1], ids[2], tmp_path)
            try:
                yield running
            finally:
                for worker in running.workers:
                    worker.stop()
                celery.close()


@dataclass
class Receiver:
    """A business's webhook endpoint: answers 500 to its first `failures` requests, then 200."""

    url: str
    failures: int
    received: list[tuple[str, dict[str, str], int]] = field(default_factory=list)


@contextmanager
def webhook_receiver(failures: int) -> Iterator[Receiver]:
    receiver = Receiver(url="", failures=failures)

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            answer = 500 if len(receiver.received) < receiver.failures else 200
            receiver.received.append((body, dict(self.headers), answer))
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Handler) as base_url:
        receiver.url = base_url + "/hooks/velox"
        yield receiver
