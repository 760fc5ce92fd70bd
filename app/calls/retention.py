"""Retention: calls and recordings kept no longer than their agent says.

Per agent (`platform_settings.privacy`): `retention_days` deletes a call (transcript, events,
analysis, recording) that many days after it ended; `audio_retention_days` deletes only the
recording. Run by beat every hour, batch by batch (each batch its own transaction, its files
deleted once the rows are), so a large backlog neither holds long locks nor loses track of what
it deleted. Returns what it deleted, for the task's log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.calls.recording_peaks import peaks_path
from app.db import agents as agent_queries
from app.db import retention as rows
from app.db.session import Database

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class RetentionRun:
    calls_deleted: int = 0
    recordings_deleted: int = 0


def apply_retention(
    database: Database, recordings_dir: Path, now: datetime, batch: int = BATCH
) -> RetentionRun:
    run = RetentionRun()
    with database.session() as session:
        agents = [(a.id, agent_queries.agent_config(a)) for a in rows.all_agents(session)]
    for agent_id, config in agents:
        privacy = config.platform_settings.privacy
        if privacy.retention_days >= 0:
            cutoff = now - timedelta(days=privacy.retention_days)
            run.calls_deleted += _expire(
                database, recordings_dir, agent_id, cutoff, batch, whole_call=True
            )
        if privacy.audio_retention_days >= 0:
            cutoff = now - timedelta(days=privacy.audio_retention_days)
            run.recordings_deleted += _expire(
                database, recordings_dir, agent_id, cutoff, batch, whole_call=False
            )
    if run.calls_deleted or run.recordings_deleted:
        log.info(
            "retention: %d calls and %d recordings deleted",
            run.calls_deleted,
            run.recordings_deleted,
        )
    return run


def _expire(
    database: Database,
    recordings_dir: Path,
    agent_id: str,
    cutoff: datetime,
    batch: int,
    *,
    whole_call: bool,
) -> int:
    deleted = 0
    while True:
        with database.session() as session:
            find = rows.expired_calls if whole_call else rows.expired_recordings
            calls = find(session, agent_id, cutoff, batch)
            ids = [c.id for c in calls]
            files = [c.recording_path for c in calls if c.recording_path]
            if not ids:
                return deleted
            if whole_call:
                rows.delete_calls(session, ids)
            else:
                rows.forget_recordings(session, ids)
        for relative in files:  # after the commit: a row never points at a deleted file
            (recordings_dir / relative).unlink(missing_ok=True)
            peaks_path(recordings_dir / relative).unlink(missing_ok=True)
        deleted += len(ids)
        if len(ids) < batch:
            return deleted
