"""Figures computed from a finished call's turns and events: talk time and ratio, silence,
interruptions, voice-to-voice latency percentiles. Pure: the analysis worker feeds it rows.

Speech time comes from each turn's `speech_ms` (the caller's first to last voiced frame of the
turn; the agent's first frame sent to its last frame played, or to the moment it was cut off).
Turns without it (typed text, keypad digits, calls recorded before it was measured) count
towards the turn totals but not towards talk time; with no timed turn at all, talk ratio and
silence are None rather than a guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PERCENTILES = (50, 90, 95)


@dataclass(frozen=True, slots=True)
class SpokenTurn:
    role: str  # "user" or "agent"
    started_ms: float  # since the call's media started
    speech_ms: float | None
    interrupted: bool = False
    voice_to_voice_ms: float | None = None


def percentile(values: Sequence[float], p: float) -> float:
    """The `p`th percentile of `values` by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(values: Sequence[float]) -> dict[str, float | int] | None:
    """Count, p50/p90/p95 and max in ms; None without values."""
    if not values:
        return None
    summary: dict[str, float | int] = {"count": len(values)}
    for p in PERCENTILES:
        summary[f"p{p}"] = round(percentile(values, p), 1)
    summary["max"] = round(max(values), 1)
    return summary


def _merged(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _silences(speech: list[tuple[float, float]], duration_ms: float) -> list[float]:
    """Gaps with nobody speaking, from the start of the call to its end."""
    gaps, cursor = [], 0.0
    for start, end in speech:
        if start > cursor:
            gaps.append(start - cursor)
        cursor = max(cursor, end)
    if duration_ms > cursor:
        gaps.append(duration_ms - cursor)
    return gaps


def call_metrics(
    turns: Sequence[SpokenTurn], event_kinds: Sequence[str], duration_secs: float
) -> dict[str, Any]:
    """The computed figures of one call (see the module docstring)."""
    duration_ms = max(0.0, duration_secs * 1000)
    timed = [t for t in turns if t.speech_ms is not None and t.speech_ms >= 0]
    talk_ms = {
        role: sum(t.speech_ms or 0.0 for t in timed if t.role == role) for role in ("agent", "user")
    }
    total_talk = talk_ms["agent"] + talk_ms["user"]
    speech = _merged(
        (t.started_ms, min(duration_ms, t.started_ms + (t.speech_ms or 0.0)))
        for t in timed
        if duration_ms == 0 or t.started_ms < duration_ms
    )
    silences = _silences(speech, duration_ms) if timed else []
    overlap_ms = total_talk - sum(end - start for start, end in speech)
    kinds = list(event_kinds)
    return {
        "duration_secs": round(duration_secs, 1),
        "turns": {
            "agent": sum(1 for t in turns if t.role == "agent"),
            "user": sum(1 for t in turns if t.role == "user"),
        },
        "talk_time_secs": {role: round(ms / 1000, 1) for role, ms in talk_ms.items()}
        if timed
        else None,
        "talk_ratio": {role: round(ms / total_talk, 3) for role, ms in talk_ms.items()}
        if total_talk > 0
        else None,
        "silence_secs": round(sum(silences) / 1000, 1) if timed else None,
        "longest_silence_secs": round(max(silences, default=0.0) / 1000, 1) if timed else None,
        "overlap_secs": round(max(0.0, overlap_ms) / 1000, 1) if timed else None,
        "interruptions": {
            # The caller cut the agent off (the agent's turn ends where it was cut).
            "by_caller": sum(1 for t in turns if t.role == "agent" and t.interrupted),
            # Said over the agent without taking the turn: the agent resumed.
            "backchannels": kinds.count("backchannel"),
            "noises": kinds.count("noise"),
            "murmurs": kinds.count("murmur"),
            "agent_resumed": kinds.count("agent_resumed"),
            # The agent began answering before the caller had finished, and took it back.
            "premature_ends_of_turn": kinds.count("premature_end_of_turn"),
        },
        "voice_to_voice_ms": latency_summary(
            [
                t.voice_to_voice_ms
                for t in turns
                if t.role == "user" and t.voice_to_voice_ms is not None
            ]
        ),
    }
