"""Celery worker processes for integration tests: started in their own process group, logging
to a file, ready once Celery says so, killed as a crash would kill them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from app.settings import PROJECT_ROOT, Settings

WORKER_READY_S = 30.0


@dataclass
class Worker:
    """A worker process (with its pool) in its own process group, logging to a file."""

    process: subprocess.Popen[bytes]
    log: Path

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + WORKER_READY_S
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the worker did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once, as a crash of the machine would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_environment(settings: Settings) -> dict[str, str]:
    # Set even when empty, so a developer's .env cannot point the worker elsewhere.
    return {
        **os.environ,
        "VELOX_DATA_DIR": str(settings.data_dir),
        "VELOX_DATABASE_URL": settings.database_url,
        "VELOX_BROKER_URL": settings.broker_url,
        "VELOX_RESULT_BACKEND": settings.result_backend,
        "VELOX_TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "VELOX_TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "VELOX_TWILIO_API_BASE_URL": settings.twilio_api_base_url,
        "VELOX_PUBLIC_URL": settings.public_url,
        "VELOX_DIAL_TIME_LIMIT_S": str(settings.dial_time_limit_s),
        "VELOX_WEBHOOK_RETRY_BASE_S": str(settings.webhook_retry_base_s),
        "VELOX_GROQ_BASE_URL": settings.groq_base_url,
        "VELOX_OPENAI_BASE_URL": settings.openai_base_url,
        "VELOX_ANALYSIS_POLL_S": str(settings.analysis_poll_s),
        "VELOX_ANALYSIS_RETRY_BASE_S": str(settings.analysis_retry_base_s),
        "VELOX_ALLOW_PRIVATE_URLS": str(settings.allow_private_urls).lower(),
        "VELOX_LOG_LEVEL": "INFO",
    }


def start_worker(command: list[str], settings: Settings, log: Path, *, wait: bool = True) -> Worker:
    """Start a worker; unless `wait` is false, return once it is ready to take tasks."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=worker_environment(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, log)
    if wait:
        worker.wait_until_ready()
    return worker


@contextmanager
def flushed_redis(url: str) -> Iterator[redis.Redis]:
    """The Redis database at `url`, emptied before and after; unreachable fails, never skips."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {url} ({error}); start it: make services")
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()
