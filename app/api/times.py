"""Times as the REST API shows them: whole Unix seconds (ElevenLabs' `*_unix_secs` fields)."""

from __future__ import annotations

from datetime import datetime


def unix(at: datetime) -> int:
    return int(at.timestamp())


def unix_or_none(at: datetime | None) -> int | None:
    return unix(at) if at is not None else None
