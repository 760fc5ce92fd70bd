"""Open-loop request load for the tenant-isolation test and bench: requests started on a fixed
schedule (not one after the other), each one's status and latency kept. A noisy tenant's load
runs in a process of its own, so its client work does not slow the measured tenant's client."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

import httpx

# The status kept for a request that got no answer.
FAILED = 0


@dataclass
class LoadResult:
    statuses: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    # Requests that could not be started on time (the client fell behind its schedule).
    late_starts: int = 0
    # From the first request's start to the last one's answer: how long the server took.
    elapsed_s: float = 0.0
    # What each request that got no answer failed with, and when (seconds into the run).
    errors: list[str] = field(default_factory=list)

    def count(self, status: int) -> int:
        return sum(1 for s in self.statuses if s == status)

    def percentile(self, q: float, status: int | None = 200) -> float:
        values = sorted(
            latency
            for s, latency in zip(self.statuses, self.latencies_ms, strict=True)
            if status is None or s == status
        )
        if not values:
            raise ValueError("no request to take a percentile of")
        return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]


async def paced_requests(
    url: str, headers: dict[str, str], rate_per_s: float, duration_s: float
) -> LoadResult:
    """GET `url` `rate_per_s` times a second for `duration_s`, on schedule."""
    result = LoadResult()
    total = int(rate_per_s * duration_s)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def one() -> None:
            started = time.perf_counter()
            try:
                status = (await client.get(url)).status_code
            except httpx.HTTPError as error:
                status = FAILED  # no answer (timed out, connection refused or reset)
                result.errors.append(
                    f"{type(error).__name__} at {started - start:.2f} s after "
                    f"{time.perf_counter() - started:.2f} s: {error!r}"
                )
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses.append(status)

        tasks = []
        start = time.perf_counter()
        for n in range(total):
            delay = start + n / rate_per_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                result.late_starts += 1
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        result.elapsed_s = time.perf_counter() - start
    return result


def _run(url: str, headers: dict[str, str], rate_per_s: float, duration_s: float) -> LoadResult:
    return asyncio.run(paced_requests(url, headers, rate_per_s, duration_s))


class LoadProcess:
    """`paced_requests` in a process of its own (spawned: no state of the parent's event loop)."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self._pool.submit(int).result()  # the process is up before any timing starts

    def start(
        self, url: str, headers: dict[str, str], rate_per_s: float, duration_s: float
    ) -> Future[LoadResult]:
        return self._pool.submit(_run, url, headers, rate_per_s, duration_s)

    def close(self) -> None:
        self._pool.shutdown()
