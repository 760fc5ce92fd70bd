"""Saves finished calls to the database (off the event loop) and feeds the call metrics."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict

from sqlalchemy.orm import Session

from app.calls.pii import redact_pii, redact_pii_value
from app.config.redaction import redact_value
from app.db import calls as call_queries
from app.db.models import Call
from app.db.session import Database
from app.engine.record import CallRecord, CallRecorder
from app.engine.text import clean_text, clean_value
from app.observability.metrics import BARGE_INS, CALLS_ENDED, TURN_LATENCY

log = logging.getLogger(__name__)

_STAGES = {
    "end_of_speech_to_endpoint_ms": "endpoint",
    "stt_final_ms": "stt_final",
    "llm_first_token_ms": "llm_first_token",
    "tts_first_byte_ms": "tts_first_byte",
    "voice_to_voice_ms": "voice_to_voice",
}


class DatabaseCallRecorder:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def save(self, record: CallRecord) -> None:
        await asyncio.to_thread(self._save, record)
        _observe(record)
        log.info(
            "call %s saved: %s, %d turns, %d events",
            record.call_id,
            record.termination_reason,
            len(record.turns),
            len(record.events),
        )

    def _save(self, record: CallRecord) -> None:
        clean(record)
        with self._database.session() as session:
            save_record(session, record)


def save_record(session: Session, record: CallRecord) -> Call:
    """The engine's record handed to the data layer as plain data, in the session's transaction."""
    return call_queries.save_finished_call(
        session,
        record.organization_id,
        record.call_id,
        agent_id=record.agent_id,
        status=record.status,
        termination_reason=record.termination_reason,
        started_at=record.started_at,
        ended_at=record.ended_at,
        metrics=record.metrics,
        turns=[asdict(turn) for turn in record.turns],
        events=[asdict(event) for event in record.events],
        recording=record.recording,
    )


def clean(record: CallRecord) -> None:
    """Every text of the record made storable (see `app.engine.text`), whatever reached it."""
    record.termination_reason = clean_text(record.termination_reason)
    for turn in record.turns:
        turn.message = clean_text(turn.message)
        turn.metrics = clean_value(turn.metrics)
        # A tool's answer may echo what it was sent: no secret may be stored.
        turn.tool_calls = redact_value(clean_value(turn.tool_calls))
        turn.tool_results = redact_value(clean_value(turn.tool_results))
    for event in record.events:  # provider errors among them: no key may be stored
        event.kind = clean_text(event.kind)
        event.data = redact_value(clean_value(event.data))
    record.metrics = clean_value(record.metrics)


def _observe(record: CallRecord) -> None:
    CALLS_ENDED.labels(reason=record.termination_reason.split(":")[0] or "unknown").inc()
    BARGE_INS.inc(record.metrics.get("counters", {}).get("barge_ins", 0))
    for turn in record.turns:
        if turn.role != "user":
            continue
        for key, stage in _STAGES.items():
            value = turn.metrics.get(key)
            if isinstance(value, int | float):
                TURN_LATENCY.labels(stage=stage).observe(value / 1000)


class RedactingRecorder:
    """Saves through another recorder with the caller's and agent's personal data taken out of
    the transcript and the events (an agent with `privacy.redact_pii`)."""

    def __init__(self, recorder: CallRecorder) -> None:
        self._recorder = recorder

    async def save(self, record: CallRecord) -> None:
        for turn in record.turns:
            turn.message = redact_pii(turn.message)
        for event in record.events:
            event.data = redact_pii_value(event.data)
        await self._recorder.save(record)
