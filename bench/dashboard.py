"""`python -m bench.dashboard`: the web dashboard's speed, section 10 of `bench/RESULTS.md`.

1. The built bundle: first-load JavaScript per page, read from the static export
   (`bench/dashboard_bundle.py`).
2. The calls page over section 7's world (`bench/call_queries_seed.py`: 1,000,000 calls of one
   organization by default, a quarter as many of three others) in a fresh PostgreSQL database:
   the whole service in its own process (`bench/dashboard_server.py`) serving the API and the
   build at `/`, a support lead of the big organization signed in, Debian Chromium at 1280 px;
   from the navigation's start to the first table rows painted, cold and warm, unfiltered, with
   a filter and with a search in the URL (`bench/dashboard_browser.py`).
3. The call page of a ten-minute recorded call (`bench/dashboard_world.py`): from the
   navigation's start to interactive (the whole transcript painted and the player ready).

The section is spliced into the output file between its markers; the others stay as they were.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from playwright.sync_api import sync_playwright

from bench.call_queries import postgres_missing
from bench.dashboard_browser import PageTimes, signed_in_state, time_page
from bench.dashboard_bundle import PageBundle, page_bundles
from bench.dashboard_report import render
from bench.dashboard_server import DashboardServer
from bench.dashboard_world import PASSWORD, SUPPORT_EMAIL, DashboardWorld, build_world
from bench.dialer_setup import drop_database, fresh_database
from bench.sections import DASHBOARD, splice_section
from tests.e2e.dashboard_app import ensure_dashboard_build, launch

DATABASE = "velox_bench_dashboard"
FULL_CALLS = 1_000_000
RUNS = 20
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = PROJECT_ROOT / "test-results" / "dashboard-bench"
# The calls page as a support lead opens it: everything, one outcome, a word, a word and a filter.
CALL_LISTS = (
    ("newest first, no filter", "/calls/"),
    ("one outcome", "/calls/?outcome=meeting_booked"),
    ("a search", "/calls/?search=refund"),
    ("a search and a filter", "/calls/?search=invoice&sentiment=negative"),
)

Say = Callable[[str], None]


@dataclass
class DashboardSpeed:
    world: DashboardWorld
    bundles: list[PageBundle]
    lists: list[PageTimes]
    call_page: PageTimes
    database_bytes: int
    runs: int
    wall_s: float = 0.0


def run(calls: int, runs: int, say: Say) -> DashboardSpeed:
    started = time.monotonic()
    build = ensure_dashboard_build()
    bundles = page_bundles(build)
    say(f"dashboard: {len(bundles)} pages in the build; seeding {calls:,} calls ...")
    url = fresh_database(DATABASE)
    try:
        with tempfile.TemporaryDirectory(prefix="velox-dashboard-bench-") as folder:
            data = Path(folder)
            world = build_world(url, calls, data / "recordings", say)
            with psycopg.connect(url) as connection:
                row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
            database_bytes = int(row[0]) if row else 0
            with DashboardServer(url, data, build) as server, sync_playwright() as playwright:
                browser = launch(playwright)
                try:
                    state = signed_in_state(browser, server.base_url, SUPPORT_EMAIL, PASSWORD)
                    # One unmeasured opening: the server's first requests (imports, pools).
                    time_page(browser, server.base_url, state, PageTimes("warm-up", "/calls/"), 1)
                    lists = []
                    for number, (name, path) in enumerate(CALL_LISTS):
                        times = time_page(
                            browser,
                            server.base_url,
                            state,
                            PageTimes(name, path),
                            runs,
                            screenshot=SCREENSHOTS / f"calls-{number}.png",
                        )
                        say(f"  calls page, {name}: {_brief(times)}")
                        lists.append(times)
                    call_page = time_page(
                        browser,
                        server.base_url,
                        state,
                        PageTimes(
                            f"a {world.recorded_turns}-turn call, 10-minute recording",
                            f"/calls/view/?id={world.recorded_call}",
                        ),
                        runs,
                        expected_lines=world.recorded_turns,
                        screenshot=SCREENSHOTS / "call-view.png",
                    )
                    say(f"  call page: {_brief(call_page)}")
                finally:
                    browser.close()
    finally:
        drop_database(DATABASE)
    speed = DashboardSpeed(world, bundles, lists, call_page, database_bytes, runs)
    speed.wall_s = time.monotonic() - started
    return speed


def _brief(times: PageTimes) -> str:
    cold = sorted(sample.ms for sample in times.cold)
    warm = sorted(sample.ms for sample in times.warm)
    return (
        f"cold p50 {cold[len(cold) // 2]:.0f} ms (worst {cold[-1]:.0f}), "
        f"warm p50 {warm[len(warm) // 2]:.0f} ms (worst {warm[-1]:.0f})"
    )


def _code_version() -> str:
    """The commit measured, and whether the service or the dashboard had uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "app", "web_dashboard/src"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "commit unknown"
    changed = ", with uncommitted changes in app/ or web_dashboard/src/" if dirty else ""
    return f"commit {commit or 'unknown'}{changed}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument(
        "--calls", type=int, default=FULL_CALLS, help="the big organization's calls"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="cold and warm openings per page")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    missing = postgres_missing()
    if missing:
        print(f"dashboard: not measured: {missing}", file=sys.stderr)
        return 1
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    version = _code_version()  # before the run: others may commit while it goes on
    speed = run(args.calls, args.runs, lambda line: print(line, flush=True))
    command = "python -m bench.dashboard " + " ".join(sys.argv[1:] if argv is None else argv)
    block = render(speed, started=started, command=command.strip(), engine=version)
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, block, DASHBOARD))
    print(f"updated section 10 of {args.output} in {speed.wall_s / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
