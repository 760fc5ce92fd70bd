"""Post-call analysis: beat's task analyses the calls stored since its last run, one at a time.

Each stored call queues its analysis in the same transaction (app/db/analyses.py). A worker
claims one, reads the call, asks the agent's language models (app/analysis/runs.py) outside any
transaction, and writes the result together with what follows from it (do-not-call entry,
campaign outcome, `analysis_ready` webhook) in one transaction, if it still holds the claim.
A try with no usable answer is retried with backoff; after the last the analysis is stored as
`failed`, with the computed metrics and the rules' outcome, so nothing waits on it forever.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from typing import Any

from app.analysis import runs as analysis_runs
from app.analysis.runs import AnalysisUnavailableError, Finding
from app.db import analyses as analysis_rows
from app.db.analyses import ClaimedAnalysis
from app.db.models import utc_now
from app.db.session import Database
from app.observability.logs import bind_call, unbind_call
from app.observability.tracing import link_current_span, parse_traceparent, trace_id, tracer
from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from workers.celery_app import TASK_SOFT_TIME_LIMIT_S, TASK_TIME_LIMIT_S, worker_task
from workers.database import task_database, task_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_BACKOFF_S = 3600.0
# How long one run of the task starts new analyses before it leaves the rest to the next run.
WORK_S = 60.0
# An analysis being made is its worker's for this long (past the task's hard limit); then it
# is due again.
LEASE = timedelta(seconds=TASK_TIME_LIMIT_S + 60)

# Models load once per worker process.
_registries: dict[int, ProviderRegistry] = {}


def _registry(settings: Settings) -> ProviderRegistry:
    registry = _registries.get(os.getpid())
    if registry is None:
        registry = _registries[os.getpid()] = ProviderRegistry()
        register_builtin_providers(registry, settings)
    return registry


@worker_task(
    bind=True,
    name="workers.analysis.analyze",
    time_limit=TASK_TIME_LIMIT_S,
    soft_time_limit=TASK_SOFT_TIME_LIMIT_S,
)
def analyze(self: Any) -> dict[str, int]:
    """Analyse due calls, starting new ones for up to `WORK_S`; returns how many were done,
    retried, failed, and lost (this worker's lease ran out before it could store one)."""
    database = task_database(self.app)
    settings = task_settings(self.app)
    started = time.monotonic()
    # Every model call ends before this, well inside the task's soft time limit.
    deadline = started + TASK_SOFT_TIME_LIMIT_S - 30
    counts = {"done": 0, "retried": 0, "failed": 0, "lost": 0}
    while time.monotonic() - started < WORK_S:
        with database.session() as session:
            claimed = analysis_rows.claim_next(session, utc_now(), LEASE)
        if claimed is None:
            break
        counts[_analyse(database, settings, claimed, deadline)] += 1
    return counts


def _analyse(
    database: Database, settings: Settings, claimed: ClaimedAnalysis, deadline: float
) -> str:
    """One claimed analysis in its `analysis` span (linked to the call's once it is read)."""
    attributes: dict[str, str | int] = {
        "velox.conversation_id": claimed.call_id,
        "velox.attempt": claimed.attempt,
    }
    with tracer().start_as_current_span("analysis", attributes=attributes) as span:
        try:
            outcome = _analyse_claimed(database, settings, claimed, deadline)
        finally:
            unbind_call()
        span.set_attribute("velox.analysis.outcome", outcome)
        return outcome


def _analyse_claimed(
    database: Database, settings: Settings, claimed: ClaimedAnalysis, deadline: float
) -> str:
    """One claimed analysis to its end or its next try; returns which of the counts it is."""
    if claimed.attempt > MAX_ATTEMPTS:  # its earlier tries died (worker killed, time limit)
        error = f"gave up: {MAX_ATTEMPTS} tries never finished"
        return _retry_or_fail(database, settings, claimed, error)
    try:
        with database.session() as session:
            job = analysis_runs.load_job(session, claimed.call_id, settings.signing_secret())
        link_current_span(job.traceparent)
        call_span = parse_traceparent(job.traceparent)
        bind_call(job.call_id, job.organization_id, trace_id(call_span) if call_span else None)
        failed = False
        try:
            finding = analysis_runs.find(job, _registry(settings), deadline)
        except AnalysisUnavailableError as error:
            if claimed.attempt < MAX_ATTEMPTS:
                return _retry_or_fail(database, settings, claimed, str(error))
            log.error("analysis of %s failed for good: %s", job.call_id, error)
            finding = Finding(analysis_runs.unanalysed(job), "rules", error.errors)
            failed = True
        with database.session() as session:
            stored = analysis_runs.store(
                session, claimed, job, finding, failed=failed, now=utc_now()
            )
    except Exception as error:  # whatever it was, the analysis is tried again or given up
        log.exception("analysis of %s failed", claimed.call_id)
        return _retry_or_fail(database, settings, claimed, f"{type(error).__name__}: {error}")
    if not stored:
        return "lost"
    return "failed" if failed else "done"


def _retry_or_fail(
    database: Database, settings: Settings, claimed: ClaimedAnalysis, error: str
) -> str:
    with database.session() as session:
        if claimed.attempt >= MAX_ATTEMPTS:
            analysis_rows.store_result(
                session, claimed, status="failed", values={"last_error": error[:2000]}
            )
            return "failed"
        backoff = settings.analysis_retry_base_s * 2 ** (claimed.attempt - 1)
        retry_at = utc_now() + timedelta(seconds=min(backoff, MAX_BACKOFF_S))
        log.warning("analysis of %s: %s; retrying at %s", claimed.call_id, error, retry_at)
        analysis_rows.retry_later(session, claimed, error=error, retry_at=retry_at)
    return "retried"
