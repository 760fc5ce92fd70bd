"""Saves finished calls to the database (off the event loop) and feeds the call metrics."""

from __future__ import annotations

import asyncio
import logging

from app.db import calls as call_queries
from app.db.session import Database
from app.engine.record import CallRecord
from app.engine.text import clean_text, clean_value
from app.observability import BARGE_INS, CALLS_ENDED, TURN_LATENCY
from app.providers.redaction import redact_value

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
            call_queries.save_call_record(session, record)


def clean(record: CallRecord) -> None:
    """Every text of the record made storable (see `app.engine.text`), whatever reached it."""
    record.termination_reason = clean_text(record.termination_reason)
    for turn in record.turns:
        turn.message = clean_text(turn.message)
        turn.metrics = clean_value(turn.metrics)
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
