"""One noisy tenant at ten times its rate gets 429s while another tenant's latency barely moves
(issue 21, item 3), on the running service over SQLite and PostgreSQL.

The quiet tenant asks at 10 requests a second, alone and then while the noisy one asks at 200 a
second against its key's 20 a second (from a process of its own). What keeps the quiet tenant's
latency is checked as a count: most of the noisy tenant's requests are refused at the door,
before authentication or a database session. Its latency is held only to a sanity bound: on a
shared two-core machine a neighbour's load moves a 40-request p95 by more than any regression
would (CI saw 11.5 → 216 ms once; four busy processes here, 25 → 250 ms with the door doing its
work); `python -m bench.tenant_isolation` measures the figure against the issue's 10 % bar and
writes it to bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config.agent import AgentConfig
from app.db import organizations as org_queries
from app.limits.rates import rate_limits_for
from app.observability.metrics import REFUSED_AT_THE_DOOR
from tests.e2e.tenant_load import LoadProcess, paced_requests
from tests.e2e.voice_service import RunningService, running_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

pytestmark = [pytest.mark.e2e, pytest.mark.timing]

KEY_RATE = "20/second"
ORGANIZATION_RATE = "40/second"
QUIET_RATE = 10.0
NOISY_RATE = 200.0  # ten times its key's rate
DURATION_S = 4.0


@pytest.fixture
def service(tmp_path: Path, empty_database_url: str) -> Iterator[RunningService]:
    from app.providers.energy.vad import EnergyVad
    from app.providers.registry import ProviderRegistry

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
    with running_service(
        tmp_path,
        config=AgentConfig(name="Desk"),
        registry=registry,
        database_url=empty_database_url,
    ) as running:
        settings = running.settings.model_copy(
            update={"rate_limit_api_key": KEY_RATE, "rate_limit_organization": ORGANIZATION_RATE}
        )
        running.app.state.rates = rate_limits_for(settings)
        yield running


def second_tenant(service: RunningService) -> dict[str, str]:
    with service.database.session() as session:
        _, key = org_queries.create_organization(session, "Noisy Inc")
    return {"xi-api-key": key}


async def test_a_noisy_tenant_is_refused_while_the_other_keeps_its_latency(
    service: RunningService,
) -> None:
    url = f"{service.base_url}/v1/convai/agents"
    quiet, noisy = service.headers, second_tenant(service)
    at_the_door = REFUSED_AT_THE_DOOR.labels(kind="api_key")
    door_before = at_the_door._value.get()
    load = LoadProcess()
    try:
        await paced_requests(url, quiet, QUIET_RATE, 1.0)  # warm: connections, caches
        alone = await paced_requests(url, quiet, QUIET_RATE, DURATION_S)
        noise = load.start(url, noisy, NOISY_RATE, DURATION_S)
        await asyncio.sleep(0.2)  # the noisy tenant is already at it
        beside = await paced_requests(url, quiet, QUIET_RATE, DURATION_S)
        loud = await asyncio.wrap_future(noise)
    finally:
        load.close()

    assert alone.statuses == [200] * len(alone.statuses), alone.errors
    assert beside.statuses == [200] * len(beside.statuses), ("never refused", beside.errors)
    sent = len(loud.statuses)
    allowed = loud.count(200)
    assert loud.count(429) + allowed == sent, (Counter(loud.statuses), loud.errors)
    # 20 a second for as long as the server took to answer them all, plus what a sliding
    # window lets through at its edge.
    assert allowed <= 20 * loud.elapsed_s * 1.2 + 20, (allowed, loud.elapsed_s)
    assert loud.count(429) >= 0.7 * sent
    # Refused cheaply: without the door every one of them is authenticated (0 here); with it,
    # about 86 % of them here with two busy processes beside (the rest are its 20 a second,
    # and those that reached the API before the first refusal was remembered).
    door = at_the_door._value.get() - door_before
    assert door >= 0.6 * sent, (door, sent)
    p95_alone, p95_beside = alone.percentile(0.95), beside.percentile(0.95)
    print(
        f"quiet tenant p95: alone {p95_alone:.1f} ms, beside the noisy one {p95_beside:.1f} ms; "
        f"{door:.0f} of the noisy tenant's {sent} requests refused at the door"
    )
    # Only what no neighbour's load explains: the quiet tenant's requests queued for seconds.
    assert p95_beside <= 4 * p95_alone + 500, (p95_alone, p95_beside)
