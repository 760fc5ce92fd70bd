"""`python -m bench.outage`: 100 Twilio-protocol calls through a cloud-provider outage (section 17).

The Deepgram, Groq and ElevenLabs doubles (their wire formats) hang, reset the connection or
answer 5xx for 30% of requests mid-call (seeded); each role falls back to a provider that does
not fail. Every caller must hear the answer or the agent's fallback line with no silence past
the budget (the provider timeouts that can stand in series on a turn, plus 500 ms), and the
breakers must open and, once the providers are back, close. Writes section 17 of RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import this_machine
from bench.outage_calls import CallOutcome, OutageResult, recover, run_calls
from bench.outage_world import ROLES, OutageSetting, outage_world
from bench.sections import OUTAGE, splice_section

PROVIDERS = {"stt": "deepgram", "llm": "groq", "tts": "elevenlabs"}


async def measure(setting: OutageSetting) -> tuple[OutageResult, CallOutcome, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        async with outage_world(setting, Path(folder)) as world:
            result = await run_calls(world)
            after = await recover(world)
            result.transitions = list(world.breakers.transitions)
            scope = world.service.organization_id
            still_open = [p for p in PROVIDERS.values() if world.breakers.is_open(p, scope)]
    return result, after, still_open


def render(
    setting: OutageSetting,
    result: OutageResult,
    after: CallOutcome,
    still_open: list[str],
    command: str,
) -> str:
    machine = this_machine()
    dead = result.dead_air_calls
    counts = result.breaker_counts()
    lines = [
        "<!-- outage:begin -->",
        "## 17. Provider outage: 30% of cloud requests fail mid-call",
        "",
        f"`{command}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine.describe()} "
        "(a shared machine: other sessions' work ran meanwhile). One service (in-process, "
        "SQLite) on Deepgram → scripted recognizer, Groq → scripted model, ElevenLabs → tone "
        "voice; energy VAD. "
        f"{setting.calls} calls, {setting.concurrency} at a time, {setting.questions} questions "
        f"each; faults seeded ({setting.seed}), {setting.fault_rate:.0%} of each double's "
        "requests. Timeouts: STT final "
        f"{setting.stt_final_ms} ms, LLM first token (and each later token) "
        f"{setting.llm_first_token_ms} ms, TTS first byte (and each later chunk) "
        f"{setting.tts_first_byte_ms} ms; breakers open after {setting.breaker_failures} "
        f"failures in a row, cooldown {setting.breaker_cooldown_s:g} s. Silence budget "
        f"{result.budget_ms} ms after a question.",
        "",
        "| calls | questions | dead-air calls | worst silence ms | first audio p50 / p95 ms "
        "| answers heard | fallback lines heard | wall s |",
        "|---|---|---|---|---|---|---|---|",
        f"| {len(result.outcomes)} | {len(result.outcomes) * setting.questions} | {len(dead)} "
        f"| {result.worst_silence_ms:.0f} | {result.response.p50:.0f} / {result.response.p95:.0f} "
        f"| {result.answers} | {result.fallbacks} | {result.wall_s:.1f} |",
        "",
        "| provider | requests | faults (hang before / hang after first bytes / reset / 5xx) "
        "| breaker opened (failed tries re-opening it included) | breaker closed |",
        "|---|---|---|---|---|",
    ]
    for role in ROLES:
        faults = result.faults[role]
        kinds = " / ".join(
            str(faults.get(k, 0)) for k in ("HANG_BEFORE", "HANG_AFTER", "RESET", "SERVER_ERROR")
        )
        provider = PROVIDERS[role]
        lines.append(
            f"| {provider} ({role}) | {result.requests[role]} | {kinds} "
            f"| {counts[(provider, 'opened')]} | {counts[(provider, 'closed')]} |"
        )
    verdict = "**Met**" if not dead and not still_open and after.error is None else "**Not met**"
    lines += [
        "",
        f"{verdict}: {len(dead)} dead-air calls (bar: 0); breakers still open after the "
        f"providers came back: {', '.join(still_open) or 'none'}.",
    ]
    if dead:
        lines.append(
            "Dead-air calls (call: first-audio waits ms, silences inside speech ms, "
            "answers + fallback lines): "
            + "; ".join(
                f"{o.number}: {[round(x) for x in o.response_ms]}, "
                f"{[round(x) for x in o.gaps_ms if x > 100]}, {o.answers}+{o.fallbacks}"
                + (f", {o.error}" if o.error else "")
                for o in dead[:10]
            )
        )
    lines += [
        "",
        "### How it is measured",
        "",
        "Each caller (`bench/outage_calls.py`, a `PhoneLine` that also notes silences) waits for "
        "the greeting, then asks its questions (1 s of speech-like audio) one at a time; it "
        "times the wait from its question's last frame to the agent's first, and every silence "
        "inside the agent's speech (a frame that arrives after all earlier audio has played), "
        "and listens until the line has been quiet for the whole budget, so a stalled answer is "
        "waited out, not cut short. A dead-air call: a wait or silence past the budget, a "
        "question with no agent audio, or a saved conversation with fewer whole answers plus "
        "fallback lines (agent turns not cut short) than questions. The doubles "
        "(`tests/fakes/cloud/`) draw each request's fate from a seeded plan "
        "(`faults.py`): Deepgram per utterance heard, Groq per streamed completion, "
        "ElevenLabs per sentence. After the run the faults are switched off, a cooldown is "
        "waited out and one more call is made: its half-open tries close the breakers. Breaker "
        "openings and closings are the service's own (`CircuitBreakers.transitions`, also "
        "`velox_provider_breaker_opens` / `_closes`).",
        "<!-- outage:end -->",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outage", description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    setting = OutageSetting(
        calls=args.calls, concurrency=args.concurrency, questions=args.questions, seed=args.seed
    )
    result, after, still_open = asyncio.run(measure(setting))
    command = "python -m bench.outage " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(setting, result, after, still_open, command.strip())
    print(text)
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, text, OUTAGE))
    return 0 if not result.dead_air_calls and not still_open else 1


if __name__ == "__main__":
    sys.exit(main())
