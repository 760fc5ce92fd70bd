"""Tenant isolation under rate limits: a quiet tenant's REST latency alone, and beside a noisy
tenant asking at ten times its key's rate, with the limits on and (for comparison) off.

`python -m bench.tenant_isolation` (about 2 minutes) runs the real service on one process with
a throwaway PostgreSQL database (`--sqlite` for a SQLite file), and replaces its section in
`bench/RESULTS.md`. The conditions are interleaved round by round so that the machine's own
load drifts over all of them alike. The issue's bar: the quiet tenant's p95 rises by no more
than 10 % beside the noisy one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from app.config.agent import AgentConfig
from app.db import organizations as org_queries
from app.limits.rates import rate_limits_for
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from bench.machine import this_machine
from bench.sections import TENANT_ISOLATION, splice_section
from bench.stats import summarize
from tests.conftest import PostgresDatabases
from tests.e2e.tenant_load import LoadProcess, LoadResult, paced_requests
from tests.e2e.voice_service import RunningService, running_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

SECTION = TENANT_ISOLATION
KEY_RATE = 20  # a second, the noisy tenant's key
ORGANIZATION_RATE = 40
QUIET_RATE = 10.0
NOISY_RATE = 10.0 * KEY_RATE
BAR = 0.10
CONDITIONS = ("alone", "beside, limits on", "beside, limits off")


@dataclass
class Condition:
    name: str
    quiet: list[float] = field(default_factory=list)  # the quiet tenant's latencies, ms
    quiet_refused: int = 0
    noisy_sent: int = 0
    noisy_served: int = 0
    noisy_refused: int = 0
    noisy_failed: int = 0  # server errors and requests with no answer
    # What those were: an HTTP status, or the client's error (e.g. ReadError), and how often.
    failures: Counter[str] = field(default_factory=Counter)


def _registry() -> ProviderRegistry:
    stt, llm, tts = (
        ScriptedSpeechToText([]),
        ScriptedLanguageModel(lambda m: "Hi."),
        ToneTextToSpeech(),
    )
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    registry.stt.register(stt.name, lambda: stt)
    registry.llm.register(llm.name, lambda: llm)
    registry.tts.register(tts.name, lambda: tts)
    return registry


def _limits_on(service: RunningService, on: bool) -> None:
    state = service.app.state
    state.settings = state.settings.model_copy(update={"rate_limits_enabled": on})


async def _round(
    service: RunningService,
    noisy: dict[str, str],
    load: LoadProcess,
    conditions: dict[str, Condition],
    seconds: float,
) -> None:
    url = f"{service.base_url}/v1/convai/agents"
    for name in CONDITIONS:
        condition = conditions[name]
        _limits_on(service, name != "beside, limits off")
        noise = None
        if name != "alone":
            noise = load.start(url, noisy, NOISY_RATE, seconds + 0.5)
            await asyncio.sleep(0.3)
        quiet: LoadResult = await paced_requests(url, service.headers, QUIET_RATE, seconds)
        condition.quiet += [
            ms
            for status, ms in zip(quiet.statuses, quiet.latencies_ms, strict=True)
            if status == 200
        ]
        condition.quiet_refused += len(quiet.statuses) - quiet.count(200)
        if noise is not None:
            loud = await asyncio.wrap_future(noise)
            condition.noisy_sent += len(loud.statuses)
            condition.noisy_served += loud.count(200)
            condition.noisy_refused += loud.count(429)
            condition.noisy_failed += len(loud.statuses) - loud.count(200) - loud.count(429)
            condition.failures.update(
                f"HTTP {status}" for status in loud.statuses if status not in (0, 200, 429)
            )
            condition.failures.update(error.split(" at ")[0] for error in loud.errors)
        # The noisy key's window passes, and the server catches up, before the next condition.
        await asyncio.sleep(3.0)
    _limits_on(service, True)


async def measure(service: RunningService, rounds: int, seconds: float) -> dict[str, Condition]:
    settings = service.settings.model_copy(
        update={
            "rate_limit_api_key": f"{KEY_RATE}/second",
            "rate_limit_organization": f"{ORGANIZATION_RATE}/second",
        }
    )
    service.app.state.rates = rate_limits_for(settings)
    with service.database.session() as session:
        _, key = org_queries.create_organization(session, "Noisy Inc")
    noisy = {"xi-api-key": key}
    conditions = {name: Condition(name) for name in CONDITIONS}
    load = LoadProcess()
    try:
        url = f"{service.base_url}/v1/convai/agents"
        await paced_requests(url, service.headers, QUIET_RATE, 2.0)  # warm
        for _ in range(rounds):
            await _round(service, noisy, load, conditions, seconds)
    finally:
        load.close()
    return conditions


def render(
    conditions: dict[str, Condition], *, database: str, rounds: int, seconds: float, command: str
) -> str:
    alone = summarize(conditions["alone"].quiet)
    lines = [
        f"<!-- {SECTION}:begin -->",
        "## 14. Tenant isolation under rate limits",
        "",
        f"`{command}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, on "
        f"{this_machine().describe()} (a shared machine: other sessions' work ran meanwhile). "
        f"One `velox serve` process on {database}; `GET /v1/convai/agents`. The quiet tenant "
        f"asks {QUIET_RATE:.0f} times a second; the noisy one {NOISY_RATE:.0f} times a second "
        f"from a process of its own, ten times its key's {KEY_RATE}/second (its organization's: "
        f"{ORGANIZATION_RATE}/second). {rounds} rounds of {seconds:.0f} s per condition, "
        "interleaved.",
        "",
        "| condition | quiet requests | quiet p50 ms | quiet p95 ms | quiet p99 ms | p95 vs alone "
        "| quiet not answered 200 | noisy sent | noisy served | noisy 429 | noisy failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    limited_rise = float("nan")
    for name in CONDITIONS:
        condition = conditions[name]
        summary = summarize(condition.quiet)
        rise = summary.p95 / alone.p95 - 1
        lines.append(
            f"| {name} | {summary.count} | {summary.p50:.1f} | {summary.p95:.1f} | "
            f"{summary.p99:.1f} | {rise:+.0%} | {condition.quiet_refused} | "
            f"{condition.noisy_sent} | {condition.noisy_served} | {condition.noisy_refused} | "
            f"{condition.noisy_failed} |"
        )
        if name == "beside, limits on":
            limited_rise = rise
    control = summarize(conditions["beside, limits off"].quiet).p95 / alone.p95 - 1
    said = (
        f"beside a tenant at ten times its rate the quiet tenant's p95 moved {limited_rise:+.0%} "
        f"(bar: +{BAR:.0%}); with the limits off it moved {control:+.0%}"
    )
    if control <= BAR:
        # The flood did not slow the quiet tenant even unlimited: the machine's other load
        # decided the figures, and they say nothing of the limits.
        verdict = f"**Inconclusive**: {said}, so this run cannot tell what the limits do."
    else:
        verdict = f"**{'Met' if limited_rise <= BAR else 'Not met'}**: {said}."
    failed = [
        f"{name}: " + ", ".join(f"{count} × {what}" for what, count in failures.most_common())
        for name in CONDITIONS
        if (failures := conditions[name].failures)
    ]
    if failed:
        lines += ["", "The noisy tenant's failed requests: " + "; ".join(failed) + "."]
    lines += [
        "",
        verdict,
        "",
        "### How it is measured",
        "",
        "Requests are started on a fixed schedule (open loop) and timed from send to the end of "
        "the answer; percentiles over the quiet tenant's answered requests of every round. A "
        "credential over its rate is refused at the door (`app/api/refused_at_the_door.py`) "
        "until its Retry-After passes, without authentication or a database session; 'limits "
        "off' lets the noisy tenant's every request in, to show what the limits protect "
        "('failed': 5xx answers and requests with no answer within 30 s, named under the "
        "table).",
        f"<!-- {SECTION}:end -->",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tenant_isolation", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="per condition and round")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database_url = None
        if not args.sqlite:
            databases = PostgresDatabases()
            stack.callback(databases.drop_all)
            database_url = databases.create()
        service = stack.enter_context(
            running_service(
                folder,
                config=AgentConfig(name="Desk"),
                registry=_registry(),
                database_url=database_url,
            )
        )
        conditions = asyncio.run(measure(service, args.rounds, args.seconds))
    text = render(
        conditions,
        database="SQLite" if args.sqlite else "PostgreSQL",
        rounds=args.rounds,
        seconds=args.seconds,
        command="python -m bench.tenant_isolation " + " ".join(argv or sys.argv[1:]),
    )
    print(text)
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, text, SECTION))
    return 0


if __name__ == "__main__":
    sys.exit(main())
