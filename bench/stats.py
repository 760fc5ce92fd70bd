"""Percentiles of latency samples, and how they are printed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    def cell(self, *, p99: bool = False) -> str:
        """`p50 / p95 (/ p99) / max (n)` in milliseconds, or "no samples"."""
        if self.count == 0:
            return "no samples"
        parts = [self.p50, self.p95, *([self.p99] if p99 else []), self.max]
        return " / ".join(f"{value:.0f}" for value in parts) + f" (n={self.count})"


def summarize(samples_ms: Sequence[float]) -> Summary:
    if len(samples_ms) == 0:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan)
    values = np.asarray(samples_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return Summary(len(values), float(p50), float(p95), float(p99), float(values.max()))
