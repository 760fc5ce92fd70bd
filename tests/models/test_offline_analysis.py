"""Post-call analysis on the offline stack, for real: SmolLM2 held to the reply's JSON schema by
a llama.cpp grammar, through the same chain code the analysis worker runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from app.analysis.post_call import (
    OUTCOME_MEANINGS,
    SENTIMENTS,
    VERDICTS,
    AnalysisRequest,
    TranscriptLine,
)
from app.analysis.runs import AnalysisJob, find
from app.config.agent import AgentConfig
from app.providers.registry import ProviderRegistry
from campaigns.outcomes import Outcome

pytestmark = pytest.mark.models

CONFIG = AgentConfig.model_validate(
    {
        "name": "Sam from Acme",
        "platform_settings": {
            "data_collection": {
                "best_day": {"type": "string", "description": "the day the demo is booked for"},
                "team_size": {"type": "integer", "description": "how many people would use it"},
            },
            "evaluation": {
                "criteria": [{"id": "booked", "conversation_goal_prompt": "A demo was booked."}]
            },
        },
    }
)


def job(*lines: tuple[str, str]) -> AnalysisJob:
    return AnalysisJob(
        call_id="conv_model_test",
        organization_id="org",
        agent_id="agent",
        external_number="+14155552671",
        request=AnalysisRequest(
            agent_name=CONFIG.name,
            direction="outbound",
            duration_secs=45.0,
            lines=tuple(TranscriptLine(role, text) for role, text in lines),
            answered_by=None,
            config=CONFIG,
        ),
        metrics={},
        voicemail_left=False,
        keys={},
    )


def test_the_offline_model_answers_every_field_in_shape(registry: ProviderRegistry) -> None:
    started = time.perf_counter()
    finding = find(
        job(
            ("agent", "Hi, this is Sam from Acme. Do you have a minute about our scheduler?"),
            ("user", "Sure, we have about twelve people and our calendar is a mess."),
            ("agent", "Could we book a demo for you?"),
            ("user", "Yes, Friday at ten works for me."),
            ("agent", "Booked for Friday at ten. Thank you!"),
        ),
        registry,
        time.monotonic() + 300,
    )
    seconds = time.perf_counter() - started
    analysis = finding.analysis
    assert finding.analyzed_by == "smollm2"
    assert analysis.invalid == []  # the grammar allows nothing else
    assert analysis.summary
    assert analysis.sentiment in SENTIMENTS
    assert analysis.outcome in OUTCOME_MEANINGS
    assert analysis.call_successful in VERDICTS
    assert set(analysis.data) == {"best_day", "team_size"}
    assert analysis.data["team_size"] is None or isinstance(analysis.data["team_size"], int)
    assert analysis.criteria["booked"]["result"] in VERDICTS
    assert seconds < 120, f"the offline analysis took {seconds:.0f} s"
    print(f"offline analysis in {seconds:.1f} s at {datetime.now(UTC):%H:%M}: {analysis}")


def test_a_remove_me_wins_over_whatever_the_offline_model_says(
    registry: ProviderRegistry,
) -> None:
    finding = find(
        job(
            ("agent", "Hi, this is Sam from Acme. Do you have a minute?"),
            ("user", "No. Please remove me from your list and stop calling me."),
            ("agent", "Understood, sorry to bother you. Goodbye."),
        ),
        registry,
        time.monotonic() + 300,
    )
    assert finding.analysis.outcome is Outcome.DO_NOT_CALL
