"""A provider outage through Twilio-protocol calls: the cloud doubles (Deepgram, Groq,
ElevenLabs, their wire formats) hang, reset or answer 5xx for 30% of requests mid-call, and
every caller still hears the answer or the fallback line within the silence budget; the
breakers open, and close once the providers are back, as designed.

The smaller run of `python -m bench.outage` (bench section 17: 100 calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.outage_calls import recover, run_calls
from bench.outage_world import ROLES, OutageSetting, outage_world

pytestmark = pytest.mark.e2e

SETTING = OutageSetting(calls=30, concurrency=15, questions=2)
PROVIDERS = ("deepgram", "groq", "elevenlabs")


async def test_thirty_calls_through_a_provider_outage_meet_no_dead_air(tmp_path: Path) -> None:
    async with outage_world(SETTING, tmp_path) as world:
        result = await run_calls(world)
        after = await recover(world)
        transitions = list(world.breakers.transitions)
        still_open = [
            p for p in PROVIDERS if world.breakers.is_open(p, world.service.organization_id)
        ]

    assert [o.error for o in result.outcomes if o.error] == []
    assert all(result.faults[role] for role in ROLES), result.faults  # each role had failures
    dead = [
        (
            o.number,
            o.response_ms,
            o.gaps_ms,
            o.responses_missing,
            o.answers,
            o.fallbacks,
            o.saved,
            o.events,
        )
        for o in result.dead_air_calls
    ]
    assert dead == [], f"dead air past {result.budget_ms} ms: {dead}"
    assert result.fallbacks > 0  # failures the caller could not be spared were said
    assert result.answers >= SETTING.calls  # most questions still got their answer
    # Breakers: opened by failures in a row; each later "opened" (a failed half-open try) or
    # "closed" (a successful one) of a provider at least a cooldown after its opening.
    assert any(what == "opened" for *_, what in transitions), transitions
    last_opened: dict[str, float] = {}
    for at, provider, _, what in transitions:
        if provider in last_opened:
            assert at - last_opened[provider] >= SETTING.breaker_cooldown_s - 0.05, transitions
        if what == "opened":
            last_opened[provider] = at
        else:
            last_opened.pop(provider)
    assert after.error is None
    assert after.responses_missing == 0
    assert still_open == [], transitions  # the providers came back, and every breaker closed
