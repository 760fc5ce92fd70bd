import pytest

from app.analysis.metrics import SpokenTurn, call_metrics, latency_summary, percentile

pytestmark = pytest.mark.unit


def test_percentiles_interpolate_between_ranks() -> None:
    values = [100.0, 200.0, 300.0, 400.0, 500.0]
    assert percentile(values, 50) == 300.0
    assert percentile(values, 90) == pytest.approx(460.0)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_latency_summary_counts_and_rounds() -> None:
    assert latency_summary([]) is None
    assert latency_summary([650.04, 700.0, 1200.0]) == {
        "count": 3,
        "p50": 700.0,
        "p90": 1100.0,
        "p95": 1150.0,
        "max": 1200.0,
    }


def test_talk_time_silence_and_interruptions_of_a_call() -> None:
    turns = [
        SpokenTurn("agent", 0, 2000),  # greeting 0-2 s
        SpokenTurn("user", 3000, 1500, voice_to_voice_ms=700),  # 3-4.5 s
        SpokenTurn("agent", 5200, 3000, interrupted=True),  # 5.2-8.2 s, cut off
        SpokenTurn("user", 8000, 1000, voice_to_voice_ms=900),  # 8-9 s (over the agent)
        SpokenTurn("agent", 9900, 1100),  # 9.9-11 s
        SpokenTurn("user", 11500, None),  # typed text: no speech time
    ]
    kinds = ["backchannel", "agent_resumed", "murmur", "agent_resumed", "barge_in"]
    figures = call_metrics(turns, kinds, 12.0)
    assert figures["turns"] == {"agent": 3, "user": 3}
    assert figures["talk_time_secs"] == {"agent": 6.1, "user": 2.5}
    assert figures["talk_ratio"] == {"agent": pytest.approx(0.709, abs=0.001), "user": 0.291}
    # Silent: 2-3, 4.5-5.2, 9-9.9, 11-12 s.
    assert figures["silence_secs"] == 3.6
    assert figures["longest_silence_secs"] == 1.0
    assert figures["overlap_secs"] == 0.2
    assert figures["interruptions"] == {
        "by_caller": 1,
        "backchannels": 1,
        "noises": 0,
        "murmurs": 1,
        "agent_resumed": 2,
        "premature_ends_of_turn": 0,
    }
    assert figures["voice_to_voice_ms"]["count"] == 2
    assert figures["voice_to_voice_ms"]["p50"] == 800.0


def test_a_call_without_timed_speech_reports_no_ratio_rather_than_a_guess() -> None:
    figures = call_metrics([SpokenTurn("user", 0, None), SpokenTurn("agent", 500, None)], [], 3.0)
    assert figures["talk_ratio"] is None
    assert figures["silence_secs"] is None
    assert figures["voice_to_voice_ms"] is None
    assert figures["turns"] == {"agent": 1, "user": 1}
