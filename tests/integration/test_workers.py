"""Workers run tasks on the embedded broker and on Redis, once per key, and survive being killed."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app.db.migrate import upgrade
from app.db.models import TaskRun, UsedConversationToken, utc_now
from app.db.organizations import create_organization
from app.db.session import Database
from app.db.task_runs import claim_run, finish_run
from app.settings import Settings
from tests.integration.worker_processes import Worker, flushed_redis, start_worker
from tests.redis_dbs import redis_url
from workers.celery_app import make_celery, worker_task
from workers.idempotency import run_idempotently

if TYPE_CHECKING:
    from tests.conftest import PostgresDatabases

pytestmark = [
    pytest.mark.integration,
    # kombu's SQLAlchemy transport (the embedded broker) still declares a `noload` relationship,
    # deprecated in SQLAlchemy 2.1 but working; see workers/README.md.
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

REDIS_URL = redis_url(15)
PURGE = "workers.maintenance.purge_used_conversation_tokens"
SLOW_TASK = "tests.workers.write_journal_slowly"
RESULT_WAIT_S = 20.0

# A worker whose Redis broker hands an unacknowledged message to another worker after 2 s and
# looks for such messages every second; it also registers this module's slow task.
SHORT_VISIBILITY_WORKER = """
import sys
sys.path.insert(0, sys.argv[1])
import test_workers
from app.settings import get_settings
from workers.celery_app import make_celery

app = make_celery(get_settings())
app.conf.broker_transport_options = {
    "visibility_timeout": 2,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
app.worker_main(["worker", "--concurrency=1", "--without-mingle", "--without-gossip",
                 "--loglevel=INFO", "--hostname=" + sys.argv[2] + "@%h"])
"""


@worker_task(bind=True, name=SLOW_TASK, time_limit=10, soft_time_limit=8)
def write_journal_slowly(self: Any, journal: str, seconds: float) -> dict[str, Any]:
    """Note the start in ``journal``, sleep, note the end: a task that can be killed midway."""

    def body(session: Session) -> dict[str, Any]:
        with open(journal, "a") as notes:
            notes.write(f"started {os.getpid()}\n")
        time.sleep(seconds)
        with open(journal, "a") as notes:
            notes.write("finished\n")
        return {"finished": True}

    return run_idempotently(self, body, key=f"journal:{journal}", lease_s=0.5)


def _start_velox_worker(settings: Settings, log: Path) -> Worker:
    """``velox worker``: the single-machine worker and its embedded beat, as `make run` runs it."""
    velox = Path(sys.executable).with_name("velox")
    return start_worker([str(velox), "worker", "--concurrency=1"], settings, log)


def _seed_tokens(database: Database, *, expired: int, live: int) -> None:
    now = utc_now()
    with database.session() as session:
        organization, _ = create_organization(session, "Acme Sales")
        for index in range(expired + live):
            expires_at = now - timedelta(hours=1) if index < expired else now + timedelta(hours=1)
            session.add(
                UsedConversationToken(
                    token_id=f"tok_{utc_now().timestamp()}_{index}",
                    organization_id=organization.id,
                    expires_at=expires_at,
                )
            )


def _token_expiries(database: Database) -> list[bool]:
    """For each used token left, whether it has expired."""
    now = utc_now()
    with database.session() as session:
        expiries = session.scalars(select(UsedConversationToken.expires_at)).all()
    return sorted(expires_at < now for expires_at in expiries)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A `velox worker` on the embedded SQLite broker and result store, in a fresh data dir."""
    data_dir = tmp_path_factory.mktemp("embedded")
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'velox.db'}")
    upgrade(settings.resolved_database_url())
    worker = _start_velox_worker(settings, data_dir / "worker.log")
    yield settings
    worker.stop()


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    with flushed_redis(REDIS_URL) as client:
        yield client


@pytest.fixture
def on_redis(
    redis_db: redis.Redis, postgres_databases: PostgresDatabases, tmp_path: Path
) -> Settings:
    """Production-shaped settings: Redis broker and results, a migrated PostgreSQL database."""
    url = postgres_databases.create()
    upgrade(url)
    return Settings(
        data_dir=tmp_path, database_url=url, broker_url=REDIS_URL, result_backend=REDIS_URL
    )


def _purge_and_check(settings: Settings) -> None:
    database = Database(settings.resolved_database_url())
    celery = make_celery(settings)
    try:
        _seed_tokens(database, expired=2, live=1)

        sent = celery.send_task(PURGE)
        assert sent.get(timeout=RESULT_WAIT_S) == {"deleted": 2}

        assert _token_expiries(database) == [False]
        reader = make_celery(settings)
        stored = reader.AsyncResult(sent.id)
        assert (stored.state, stored.result) == ("SUCCESS", {"deleted": 2})
        reader.close()
    finally:
        celery.close()
        database.dispose()


def test_embedded_worker_purges_expired_tokens_and_stores_the_result(embedded: Settings) -> None:
    _purge_and_check(embedded)


def test_redis_worker_purges_expired_tokens_and_stores_the_result(
    on_redis: Settings, tmp_path: Path
) -> None:
    worker = _start_velox_worker(on_redis, tmp_path / "worker.log")
    try:
        _purge_and_check(on_redis)
    finally:
        worker.stop()


def test_a_task_sent_twice_with_one_key_runs_its_body_once(embedded: Settings) -> None:
    database = Database(embedded.resolved_database_url())
    celery = make_celery(embedded)
    key = "purge:once"
    try:
        _seed_tokens(database, expired=1, live=0)
        first = celery.send_task(PURGE, kwargs={"idempotency_key": key})
        assert first.get(timeout=RESULT_WAIT_S) == {"deleted": 1}

        _seed_tokens(database, expired=1, live=0)
        second = celery.send_task(PURGE, kwargs={"idempotency_key": key})

        assert second.get(timeout=RESULT_WAIT_S) == {"deleted": 1}
        assert _token_expiries(database).count(True) == 1
        with database.session() as session:
            run = session.get(TaskRun, key)
            assert run is not None
            assert (run.status, run.attempts, run.result) == ("done", 1, {"deleted": 1})
    finally:
        celery.close()
        database.dispose()


def test_a_task_whose_worker_is_killed_midway_completes_once_on_another_worker(
    on_redis: Settings, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.txt"
    journal.touch()
    command = [sys.executable, "-c", SHORT_VISIBILITY_WORKER, str(Path(__file__).parent)]
    celery = make_celery(on_redis)
    first = start_worker([*command, "first"], on_redis, tmp_path / "first.log")
    try:
        sent = celery.send_task(SLOW_TASK, kwargs={"journal": str(journal), "seconds": 1.0})
        deadline = time.monotonic() + RESULT_WAIT_S
        while "started" not in journal.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "started" in journal.read_text(), first.log.read_text()[-3000:]
        first.kill()

        second = start_worker([*command, "second"], on_redis, tmp_path / "second.log")
        try:
            assert sent.get(timeout=RESULT_WAIT_S) == {"finished": True}
        finally:
            second.stop()

        lines = journal.read_text().splitlines()
        assert [line.split()[0] for line in lines] == ["started", "started", "finished"]
        assert len({line.split()[1] for line in lines[:2]}) == 2
        database = Database(on_redis.resolved_database_url())
        with database.session() as session:
            run = session.get(TaskRun, f"journal:{journal}")
            assert run is not None
            assert (run.status, run.attempts) == ("done", 2)
        database.dispose()
    finally:
        first.stop()
        celery.close()


def test_a_worker_whose_lease_was_taken_over_cannot_finish_the_key(database: Database) -> None:
    start = utc_now()
    with database.session() as session:
        first = claim_run(session, "dial:1", "dialer", lease_s=1.0, now=start)
        held = claim_run(session, "dial:1", "dialer", lease_s=1.0, now=start)
        second = claim_run(session, "dial:1", "dialer", 1.0, now=start + timedelta(seconds=2))

        assert (first.state, first.attempt, held.state) == ("claimed", 1, "held")
        assert (second.state, second.attempt) == ("claimed", 2)
        assert not finish_run(session, "dial:1", first.attempt, {"by": "first"})
        assert finish_run(session, "dial:1", second.attempt, {"by": "second"})
        again = claim_run(session, "dial:1", "dialer", 1.0, now=start + timedelta(seconds=9))
        assert (again.state, again.result) == ("done", {"by": "second"})


def test_the_embedded_broker_file_is_cleared_of_delivered_messages(embedded: Settings) -> None:
    celery = make_celery(embedded)
    broker = create_engine(f"sqlite:///{embedded.data_dir / 'broker.sqlite'}")
    try:
        for _ in range(3):
            celery.send_task(PURGE).get(timeout=RESULT_WAIT_S)
        with broker.connect() as connection:
            delivered = connection.execute(
                text("SELECT count(*) FROM kombu_message WHERE visible = 0")
            ).scalar_one()
        assert delivered >= 3

        purge = celery.send_task(
            "workers.maintenance.purge_delivered_broker_messages", kwargs={"older_than_s": 0}
        )
        assert purge.get(timeout=RESULT_WAIT_S)["deleted"] >= 3
        with broker.connect() as connection:
            left = connection.execute(
                text("SELECT count(*) FROM kombu_message WHERE visible = 0")
            ).scalar_one()
        assert left <= 1  # at most the purge's own message, delivered as it ran
    finally:
        broker.dispose()
        celery.close()
