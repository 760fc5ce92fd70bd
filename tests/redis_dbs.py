"""The Redis databases of the tests, apart for each xdist worker.

Each test file that needs Redis has a database of its own (10 to 15, named where it is used).
`make test` runs the files on one xdist worker per core, two files on different workers at
once, and a file that empties its database must not empty another worker's: worker N uses the
named database minus 6 × N. Redis has 16 databases, so two workers at most share the server
(`scripts/run_tests.sh` starts no more).
"""

from __future__ import annotations

import os

REDIS_SERVER = "redis://127.0.0.1:6379"
NAMED = range(10, 16)
MAX_WORKERS = 2


def redis_url(database: int) -> str:
    """The URL of this test process's copy of `database` (one of 10 to 15)."""
    if database not in NAMED:
        raise ValueError(f"the tests' Redis databases are {NAMED.start} to {NAMED.stop - 1}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw"))
    if index >= MAX_WORKERS:
        raise RuntimeError(
            f"xdist worker {worker}: the tests' Redis databases are apart for {MAX_WORKERS} "
            "workers at most (Redis has 16)"
        )
    return f"{REDIS_SERVER}/{database - len(NAMED) * index}"
