"""`python -m bench.dialer_worker NAME QUEUES`: a worker of the product's Celery app, timed.

The tasks are the product's own (`workers/`), unchanged; what this adds is a stopwatch around
them, from outside: Celery's task signals and SQLAlchemy's cursor events. Each task leaves one
JSON line in the file named by `BENCH_DIALER_TIMINGS`: when it started, when it sent its first
task (a tick sends its dial tasks only once every claim is committed), when it ended, and the
durations of the claim query (`due_leads`: the campaign's due leads, `FOR UPDATE SKIP LOCKED`)
and of each campaign's claim transaction (from locking the campaign row to the commit).
Started by `bench/dialer_runs.py`, one process (and one pool process) per worker.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from celery import signals
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from app.settings import get_settings
from workers.celery_app import make_celery

TIMINGS_ENV = "BENCH_DIALER_TIMINGS"

# What the task running in this (pool) process has done so far.
_task: dict[str, Any] = {}


def is_claim_query(statement: str) -> bool:
    """The dialer's claim query (`app/db/campaigns.py` `due_leads`)."""
    return "FROM campaign_leads" in statement and "SKIP LOCKED" in statement


def is_campaign_lock(statement: str) -> bool:
    """`lock_campaign`: the first statement of a campaign's claim transaction."""
    return "FROM campaigns" in statement and "SKIP LOCKED" in statement


@event.listens_for(Engine, "before_cursor_execute")
def _before_statement(conn: Connection, cursor: Any, statement: str, *_: Any, **__: Any) -> None:
    if is_claim_query(statement):
        conn.info["bench_claim_started"] = time.perf_counter()
    elif is_campaign_lock(statement):
        conn.info["bench_campaign_started"] = time.perf_counter()
        _task.pop("campaign_claimed", None)


@event.listens_for(Engine, "after_cursor_execute")
def _after_statement(conn: Connection, cursor: Any, statement: str, *_: Any, **__: Any) -> None:
    started = conn.info.pop("bench_claim_started", None)
    if started is not None and _task:
        _task["claim_query_ms"].append((time.perf_counter() - started) * 1000)
        _task["campaign_claimed"] = True


@event.listens_for(Engine, "commit")
def _commit(conn: Connection) -> None:
    started = conn.info.pop("bench_campaign_started", None)
    if started is not None and _task and _task.pop("campaign_claimed", False):
        _task["claim_transaction_ms"].append((time.perf_counter() - started) * 1000)


def _task_started(task_id: str, task: Any, **_: Any) -> None:
    _task.clear()
    _task.update(
        task=task.name,
        id=task_id,
        pid=os.getpid(),
        start=time.time(),
        first_sent=None,
        sent=0,
        claim_query_ms=[],
        claim_transaction_ms=[],
    )


def _sending(**_: Any) -> None:
    if _task:
        if _task["first_sent"] is None:
            _task["first_sent"] = time.time()
        _task["sent"] += 1


def _task_ended(retval: Any = None, state: str | None = None, **_: Any) -> None:
    if not _task:
        return
    record = {**_task, "end": time.time(), "state": state}
    record.pop("campaign_claimed", None)
    if isinstance(retval, dict) and "claimed" in retval:
        record["claimed"] = len(retval["claimed"])
        record["resent"] = len(retval["resent"])
        record["locked"] = len(retval["locked"])
    path = os.environ.get(TIMINGS_ENV)
    if path:
        with open(path, "a") as timings:
            timings.write(json.dumps(record) + "\n")
    _task.clear()


signals.task_prerun.connect(_task_started)
signals.before_task_publish.connect(_sending)
signals.task_postrun.connect(_task_ended)


def main() -> None:
    name, queues = sys.argv[1], sys.argv[2]
    app = make_celery(get_settings())
    app.worker_main(
        [
            "worker",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            f"--queues={queues}",
            "--loglevel=INFO",
            f"--hostname={name}@%h",
        ]
    )


if __name__ == "__main__":
    main()
