"""Section 5: the campaign dialer's throughput on PostgreSQL and Redis with real worker processes.

A fresh database (`velox_bench_dialer`, dropped afterwards) gets 100 000 leads in one CSV upload
through the API, in a campaign whose calling window is always open, at the largest pace the
settings accept. Then: how many due attempts the dialer's ticks claim per second with 1, 2
and 4 worker processes, first with the leads in that one campaign, then dealt out over four;
how many dials per second go end to end against a Twilio REST double; the claim query's time
per tick; and whether any lead was claimed or dialed twice. Bounded: each run stops after a
fixed measured time. `bench/dialer_runs.py` says how a run is driven.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from celery import Celery

from app.main import create_app
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from bench.dialer_runs import (
    DIAL_QUEUE,
    PASS_STEP,
    TICK_QUEUE,
    ClaimRun,
    CpuMeter,
    DialRun,
    WorkerGroup,
    send_pass,
)
from bench.dialer_setup import (
    DATABASE,
    REDIS_URL,
    CampaignApi,
    Upload,
    claim_plan,
    drop_database,
    end_claimed_calls,
    free_port,
    fresh_database,
    leads_csv,
    reset,
    scalar,
    seed,
    split_leads,
)
from bench.twilio_double import TwilioDouble, twilio_double
from tests.integration.worker_processes import worker_environment
from tests.live_server import serve
from workers.celery_app import make_celery

LEADS, QUICK_LEADS = 100_000, 10_000
CAMPAIGNS = 4
SINGLE_CAMPAIGN_WORKERS = (1, 4)
WORKERS = (1, 2, 4)
CLAIM_S, QUICK_CLAIM_S = 12.0, 3.0  # measured pass time per claim run
MIN_PASSES, MAX_PASSES = 3, 200
DIAL_WINDOW_S, QUICK_DIAL_WINDOW_S = 15.0, 4.0
WARM_DIAL_S = 30.0
RESEND_AFTER = timedelta(seconds=31)  # past the tick's 30 s "claim never sent" age
LEADS_CLAIMED_TWICE = (
    "SELECT count(*) FROM (SELECT lead_id FROM call_attempts GROUP BY lead_id "
    "HAVING count(*) > 1) AS twice"
)

Say = Callable[[str], None]


@dataclass
class World:
    """What every run shares: the database, the workers' environment, broker and double."""

    url: str
    env: dict[str, str]
    directory: Path
    celery: Celery
    broker: redis.Redis
    double: TwilioDouble
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))

    def next_now(self) -> datetime:
        """The bench's clock, moved on at every pass past the per-minute limit's window."""
        self.clock += PASS_STEP
        return self.clock

    def fresh(self) -> None:
        reset(self.url)
        self.broker.flushdb()


@dataclass
class DialerResult:
    leads: int
    csv_bytes: int
    upload: Upload
    claim_plan: list[str]
    claim_runs: list[ClaimRun]
    dial_runs: list[DialRun]
    wall_s: float = 0.0

    @property
    def checks_passed(self) -> bool:
        claims = all(
            r.leads_claimed_twice == 0 and r.attempts_in_table == r.warm_up_claims + r.claims
            for r in self.claim_runs
        )
        dials = all(
            r.leads_claimed_twice == 0
            and r.numbers_dialed_twice == 0
            and r.twilio_creates == r.attempts_dialed
            and r.attempts_dialing == 0
            for r in self.dial_runs
        )
        return claims and dials and self.upload.imported == self.leads


def run_dialer(say: Say, *, quick: bool = False) -> DialerResult:
    started = time.monotonic()
    leads = QUICK_LEADS if quick else LEADS
    claim_s = QUICK_CLAIM_S if quick else CLAIM_S
    window_s = QUICK_DIAL_WINDOW_S if quick else DIAL_WINDOW_S
    url = fresh_database(DATABASE)
    broker = redis.Redis.from_url(REDIS_URL)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-dialer-") as tmp, twilio_double() as rest:
            port = free_port()
            settings = Settings(
                data_dir=Path(tmp),
                database_url=url,
                broker_url=REDIS_URL,
                result_backend=REDIS_URL,
                public_url=f"http://127.0.0.1:{port}",
                port=port,
                twilio_account_sid="AC" + "b" * 32,
                twilio_auth_token="bench-dialer-token-0123456789abcdef",
                twilio_api_base_url=rest.base_url,
            )
            celery = make_celery(settings)
            world = World(url, worker_environment(settings), Path(tmp), celery, broker, rest)
            try:
                result = _measure(world, settings, leads, claim_s, window_s, say)
            finally:
                celery.close()
    finally:
        broker.flushdb()
        broker.close()
        drop_database(DATABASE)
    result.wall_s = time.monotonic() - started
    return result


def _measure(
    world: World, settings: Settings, leads: int, claim_s: float, window_s: float, say: Say
) -> DialerResult:
    app = create_app(settings, providers=ProviderRegistry(), preload=False)
    with serve(app, settings.port) as base_url:
        api = CampaignApi(base_url, seed(world.url))
        first = api.create("Bench list")
        say(f"dialer: importing {leads} leads in one CSV upload ...")
        csv = leads_csv(leads)
        upload = api.upload(first, csv)
        say(f"  {upload.imported} imported, {upload.rejected} rejected in {upload.seconds:.1f} s")
        api.start(first)
        reset(world.url)  # VACUUM ANALYZE: the plan a tick gets once autovacuum has run
        plan = claim_plan(world.url, first)
        others = [api.create(f"Bench list {n}") for n in range(2, CAMPAIGNS + 1)]
        claim_runs = [
            _claim_run(world, f"1 × {leads:,}", workers, claim_s, say)
            for workers in SINGLE_CAMPAIGN_WORKERS
        ]
        split_leads(world.url, first, others)
        for campaign_id in others:
            api.start(campaign_id)
        layout = f"{CAMPAIGNS} × {leads // CAMPAIGNS:,}"
        claim_runs += [_claim_run(world, layout, workers, claim_s, say) for workers in WORKERS]
        dial_runs = [_dial_run(world, layout, workers, window_s, say) for workers in WORKERS]
        api.close()
    return DialerResult(leads, len(csv), upload, plan, claim_runs, dial_runs)


def _claim_run(world: World, layout: str, workers: int, seconds: float, say: Say) -> ClaimRun:
    say(f"dialer: claims, {layout} leads, {workers} worker(s) ...")
    world.fresh()
    run = ClaimRun(layout, workers)
    group = WorkerGroup.start(workers, TICK_QUEUE, world.env, world.directory)
    try:
        # A warm-up pass (not counted): connections, imports and caches, as a worker that has
        # been running for a while has them.
        run.warm_up_claims = send_pass(world.celery, workers, world.next_now()).claimed
        end_claimed_calls(world.url)
        cpu = (0.0, 0.0, 0.0)
        while len(run.passes) < MAX_PASSES:
            if run.seconds >= seconds and len(run.passes) >= MIN_PASSES:
                break
            meter = CpuMeter(group, DATABASE)
            one = send_pass(world.celery, workers, world.next_now())
            lap = meter.read()
            cpu = (cpu[0] + lap[0], cpu[1] + lap[1], cpu[2] + lap[2])
            run.passes.append(one)
            if one.claimed == 0:
                break
            end_claimed_calls(world.url)  # between passes, untimed
        run.cpu = cpu
    finally:
        group.stop()
    run.records = group.records()
    run.attempts_in_table = scalar(world.url, "SELECT count(*) FROM call_attempts")
    run.leads_claimed_twice = scalar(world.url, LEADS_CLAIMED_TWICE)
    say(
        f"  {run.claims} claims in {run.seconds:.1f} s of passes: "
        f"{run.claims / run.seconds:.0f}/s; attempts in the table {run.attempts_in_table}, "
        f"leads claimed twice {run.leads_claimed_twice}"
    )
    return run


def _dial_run(world: World, layout: str, workers: int, window_s: float, say: Say) -> DialRun:
    say(f"dialer: dials end to end, {layout} leads, {workers} worker(s) ...")
    world.fresh()
    run = DialRun(layout, workers, resend_after_s=RESEND_AFTER.total_seconds())
    already = len(world.double.created)
    queues = f"{TICK_QUEUE},{DIAL_QUEUE}"
    group = WorkerGroup.start(workers, queues, world.env, world.directory)
    try:
        one = send_pass(world.celery, workers, world.next_now())
        run.backlog = one.claimed
        warm_by = time.monotonic() + WARM_DIAL_S
        while not group.have_dialed() and time.monotonic() < warm_by:
            time.sleep(0.05)  # the window starts once every worker has dialed once
        meter = CpuMeter(group, DATABASE)
        start = time.time()
        end = start + window_s
        while time.time() < end and len(world.double.created) - already < run.backlog:
            time.sleep(0.05)
        finish = min(time.time(), end)
        run.cpu = meter.read()
        run.window_s = finish - start
        run.dialed_in_window = world.double.created_between(start, finish)
        # A tick RESEND_AFTER later by its clock: the claims still waiting for their dial task.
        run.still_claimed = scalar(
            world.url, "SELECT count(*) FROM call_attempts WHERE status = 'claimed'"
        )
        run.queue_before = int(world.broker.llen(DIAL_QUEUE))
        run.resent = send_pass(world.celery, 1, one.now + RESEND_AFTER).resent
        run.queue_after = int(world.broker.llen(DIAL_QUEUE))
    finally:
        group.stop()
    run.records = group.records()
    numbers = Counter(to for _, to in world.double.created[already:])
    run.twilio_creates = sum(numbers.values())
    run.numbers_dialed_twice = sum(1 for count in numbers.values() if count > 1)
    run.attempts_dialed = scalar(
        world.url, "SELECT count(*) FROM call_attempts WHERE status = 'dialed'"
    )
    run.attempts_dialing = scalar(
        world.url, "SELECT count(*) FROM call_attempts WHERE status = 'dialing'"
    )
    run.leads_claimed_twice = scalar(world.url, LEADS_CLAIMED_TWICE)
    say(
        f"  {run.dialed_in_window} dials in {run.window_s:.1f} s: {run.dials_per_s:.0f}/s; "
        f"Twilio asked {run.twilio_creates} times for {len(numbers)} numbers, "
        f"{run.attempts_dialed} attempts dialed; resend tick re-sent {run.resent}"
    )
    return run
