"""Section 7: the call list, search, analytics and CSV export on PostgreSQL, at scale.

A fresh database (`velox_bench_queries`, dropped afterwards) gets one organization's calls
(1,000,000 by default; `--quick` 20,000) among three other organizations' (a quarter as many),
with their turns, analyses and campaign dials (bench/call_queries_seed.py). The REST API then
runs in a process of its own (bench/call_queries_server.py) and the bench asks it over HTTP,
one request at a time, as a dashboard would: each list, search and analytics request once to
warm up, then in rounds; the CSV export of the newest 100,000 calls (and of a tenth of them, to
show that memory does not grow with the rows) while the server's resident memory is sampled.
The slowest list and search requests, and the summary's heaviest statement, are explained
(`EXPLAIN (ANALYZE, BUFFERS)`) through the data layer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.api.call_filters import call_filters, sort_direction
from app.db import analytics, call_search
from app.db.call_search import CallFilters
from app.db.session import Database
from bench.call_queries_seed import World, seed
from bench.dialer_setup import POSTGRES_SERVER, drop_database, fresh_database
from bench.machine import tree_resident_bytes
from bench.stats import summarize
from tests.live_server import free_port

DATABASE = "velox_bench_queries"
FULL_CALLS, QUICK_CALLS = 1_000_000, 20_000
EXPORT_ROWS = 100_000
ROUNDS, QUICK_ROUNDS = 30, 5
PROJECT_ROOT = Path(__file__).resolve().parent.parent

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Request:
    name: str
    path: str
    query: dict[str, Any]


@dataclass
class Timed:
    request: Request
    samples_ms: list[float] = field(default_factory=list)
    returned: int = 0  # rows of the last answer (calls listed, days, agents)


@dataclass(frozen=True, slots=True)
class Export:
    rows: int
    seconds: float
    first_byte_ms: float
    rss_before: int
    rss_peak: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


@dataclass
class QueriesResult:
    world: World
    lists: list[Timed]
    searches: list[Timed]
    analytics: list[Timed]
    exports: list[Export]
    plans: dict[str, str]
    database_bytes: int
    rounds: int
    wall_s: float = 0.0


def postgres_missing() -> str:
    """Why the bench cannot run here ("" when PostgreSQL answers)."""
    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=3):
            return ""
    except psycopg.OperationalError as error:
        return f"PostgreSQL is not reachable ({error}); start it: scripts/ensure_services.sh"


def run_queries(say: Say, *, quick: bool, calls: int | None = None) -> QueriesResult:
    started = time.monotonic()
    count = calls or (QUICK_CALLS if quick else FULL_CALLS)
    rounds = QUICK_ROUNDS if quick else ROUNDS
    say(f"call queries: seeding {count:,} calls (and a quarter as many elsewhere) ...")
    url = fresh_database(DATABASE)
    try:
        world = seed(url, count, say)
        with psycopg.connect(url) as connection:
            size = connection.execute("SELECT pg_database_size(current_database())").fetchone()
        database_bytes = int(size[0]) if size else 0
        with ApiServer(url) as server:
            client = server.client(world.target.api_key)
            lists = _timed(client, list_requests(world, client), rounds, say)
            searches = _timed(client, search_requests(world), rounds, say)
            figures = _timed(client, analytics_requests(world), rounds, say)
            exports = _exports(client, server, url, world, say)
            client.close()
        plans = _plans(url, world, lists, searches)
    finally:
        drop_database(DATABASE)
    result = QueriesResult(world, lists, searches, figures, exports, plans, database_bytes, rounds)
    result.wall_s = time.monotonic() - started
    return result


# --- what is asked -------------------------------------------------------------------------------

LIST = "/v1/convai/conversations"


def list_requests(world: World, client: httpx.Client) -> list[Request]:
    agents = world.target.agents
    day = int((world.now - timedelta(days=7)).timestamp())
    first = client.get(LIST).json()
    return [
        Request("newest first, no filter", LIST, {}),
        Request("page 2 (cursor)", LIST, {"cursor": first["next_cursor"]}),
        Request("oldest first", LIST, {"sort_direction": "asc"}),
        Request("one agent", LIST, {"agent_id": agents["Billing"]}),
        Request(
            "twilio, inbound, done",
            LIST,
            {"channel": "twilio", "direction": "inbound", "status": "done"},
        ),
        Request("outcome meeting_booked", LIST, {"outcome": "meeting_booked"}),
        Request(
            "negative and failed", LIST, {"sentiment": "negative", "call_successful": "failure"}
        ),
        Request(
            "one day a week ago",
            LIST,
            {"call_start_after_unix": day, "call_start_before_unix": day + 86400},
        ),
        Request("longer than 15 min", LIST, {"call_duration_min_secs": 900}),
        Request("a regular caller's number", LIST, {"phone_number": world.frequent_caller}),
        Request("interrupted", LIST, {"interrupted": "true"}),
        Request("one campaign", LIST, {"campaign_id": world.target.campaigns[0]}),
        Request(
            "rare mix (agent, channel, outcome)",
            LIST,
            {"agent_id": agents["After hours"], "channel": "websocket", "outcome": "do_not_call"},
        ),
    ]


def search_requests(world: World) -> list[Request]:
    return [
        Request("common word", LIST, {"search": "appointment"}),
        Request("two words", LIST, {"search": "invoice wrong"}),
        Request("phrase", LIST, {"search": '"credit card"'}),
        Request("prefix", LIST, {"search": "resched*"}),
        Request("a surname", LIST, {"search": world.surname}),
        Request("an order number", LIST, {"search": world.order_number}),
        Request("no match", LIST, {"search": "xylophone"}),
        Request(
            "word + filters",
            LIST,
            {"search": "refund", "channel": "twilio", "sentiment": "negative"},
        ),
        Request("word, oldest first", LIST, {"search": "refund", "sort_direction": "asc"}),
    ]


def analytics_requests(world: World) -> list[Request]:
    end = int(world.now.timestamp())
    period = {"call_start_after_unix": end - 30 * 86400, "call_start_before_unix": end}
    target = world.target
    return [
        Request("summary, 30 days", "/v1/analytics/summary", period),
        Request(
            "summary, 30 days, one agent",
            "/v1/analytics/summary",
            {**period, "agent_id": target.agents["Reception"]},
        ),
        Request(
            "summary, 30 days, one campaign",
            "/v1/analytics/summary",
            {**period, "campaign_id": target.campaigns[0]},
        ),
        Request("per agent, 30 days", "/v1/analytics/agents", period),
        Request(
            "per day, 30 days, Europe/Paris",
            "/v1/analytics/daily",
            {
                "time_zone": "Europe/Paris",
                "end_date": (world.now - timedelta(days=1)).date().isoformat(),
                "start_date": (world.now - timedelta(days=30)).date().isoformat(),
            },
        ),
        Request("campaign funnel", f"/v1/analytics/campaigns/{target.campaigns[0]}/funnel", {}),
    ]


def _returned(body: dict[str, Any]) -> int:
    for key in ("conversations", "days", "agents"):
        if key in body:
            return len(body[key])
    return int(body.get("calls", body.get("leads", 0)))


def _timed(client: httpx.Client, requests: list[Request], rounds: int, say: Say) -> list[Timed]:
    timed = [Timed(request) for request in requests]
    for warm_up in timed:
        response = client.get(warm_up.request.path, params=warm_up.request.query)
        if response.status_code != 200:
            raise RuntimeError(f"{warm_up.request.name}: {response.status_code} {response.text}")
    for _ in range(rounds):
        for entry in timed:
            began = time.perf_counter()
            response = client.get(entry.request.path, params=entry.request.query)
            entry.samples_ms.append((time.perf_counter() - began) * 1000)
            entry.returned = _returned(response.json())
    say(
        f"  {len(timed)} requests × {rounds} rounds: "
        + ", ".join(
            f"{t.request.name} {sorted(t.samples_ms)[len(t.samples_ms) // 2]:.0f} ms" for t in timed
        )
    )
    return timed


# --- the export ----------------------------------------------------------------------------------


class ApiServer:
    """The API in its own process (bench/call_queries_server.py) on a free port."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def client(self, api_key: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", headers={"xi-api-key": api_key}, timeout=600
        )

    def __enter__(self) -> ApiServer:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.call_queries_server", self.url, str(self.port)],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/v1/me", timeout=1)
                return self
            except httpx.TransportError:
                if self._process.poll() is not None:
                    break
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("the bench's API server did not start")

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)


def _export_start(url: str, world: World, rows: int) -> int:
    """The Unix second from which the organization's newest `rows` calls started."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT coalesce(started_at, created_at) FROM calls WHERE organization_id = %s "
            "ORDER BY 1 DESC OFFSET %s LIMIT 1",
            (world.target.id, rows - 1),
        ).fetchone()
    assert row is not None
    return int(row[0].timestamp())


def _export(client: httpx.Client, server: ApiServer, after: int) -> Export:
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_resident_bytes(server.pid))
            time.sleep(0.01)

    before = tree_resident_bytes(server.pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = 0
    first_byte = 0.0
    began = time.perf_counter()
    with client.stream(
        "GET", f"{LIST}/export", params={"call_start_after_unix": after}
    ) as response:
        for chunk in response.iter_bytes():
            if not first_byte:
                first_byte = (time.perf_counter() - began) * 1000
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    # Lines less the header; a summary with a line break adds none (the bench writes none).
    return Export(lines - 1, seconds, first_byte, before, max(peak, before))


def _exports(
    client: httpx.Client, server: ApiServer, url: str, world: World, say: Say
) -> list[Export]:
    target = min(EXPORT_ROWS, world.calls // 2)
    runs = []
    for rows in (target // 10, target):
        run = _export(client, server, _export_start(url, world, rows))
        say(
            f"  export of {run.rows:,} calls: {run.rows_per_second:,.0f} rows/s, server RSS "
            f"{run.rss_before / 2**20:.0f} → peak {run.rss_peak / 2**20:.0f} MiB"
        )
        runs.append(run)
    return runs


# --- plans ---------------------------------------------------------------------------------------


def _explained(url: str, work: Callable[[Session], object]) -> str:
    """The `EXPLAIN (ANALYZE, BUFFERS)` of the slowest statement `work` sends."""
    database = Database(url)
    statements: list[tuple[str, Any]] = []

    def keep(_c: object, _cur: object, statement: str, parameters: Any, *_: object) -> None:
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", keep)
    try:
        with database.session() as session:
            work(session)
    finally:
        database.dispose()
    slowest, plan_text = -1.0, ""
    with psycopg.connect(url) as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                connection.execute(statement, parameters)  # a setting, such as work_mem
                continue
            rows = connection.execute(
                f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters
            ).fetchall()
            lines = [str(row[0]) for row in rows]
            took = float(lines[-1].split(":")[1].split()[0]) if lines else 0.0
            if took > slowest:
                slowest, plan_text = took, "\n".join(lines)
    return plan_text


def _filters(query: dict[str, Any]) -> tuple[CallFilters, Any]:
    """The data layer's filters for an API query, through the API's own parsing."""
    listed = ("channel", "direction", "status", "outcome", "sentiment", "call_successful")
    arguments = {
        key: [value] if key in listed else value
        for key, value in query.items()
        if key not in ("cursor", "sort_direction")
    }
    if "interrupted" in arguments:
        arguments["interrupted"] = arguments["interrupted"] == "true"
    return call_filters(**arguments), sort_direction(query.get("sort_direction"))


def _p95(timed: Timed) -> float:
    return summarize(timed.samples_ms).p95


def _plans(url: str, world: World, lists: list[Timed], searches: list[Timed]) -> dict[str, str]:
    plans = {}
    for group in (lists, searches):
        request = max(group, key=_p95).request
        filters, direction = _filters(request.query)
        cursor = request.query.get("cursor")
        plans[request.name] = _explained(
            url,
            lambda session, f=filters, d=direction, c=cursor: call_search.find_calls(
                session, world.target.id, f, direction=d, cursor=c
            ),
        )
    end = world.now
    period = CallFilters(started_from=end - timedelta(days=30), started_before=end)
    plans["summary, 30 days"] = _explained(
        url, lambda session: analytics.summary(session, world.target.id, period)
    )
    return plans
