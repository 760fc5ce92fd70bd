"""The call list as CSV (RFC 4180, UTF-8), streamed a batch of rows at a time.

The rows come from one streamed query in a session of the export's own: the response outlives
the request's session, and memory stays flat however many calls match. A text cell that a
spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
return, and is not a plain number such as `+15550001111`) is written with a leading `'`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from app.api.times import unix
from app.db import call_search
from app.db.call_search import CallFilters, SortDirection
from app.db.session import Database

COLUMNS = (
    "conversation_id",
    "start_time",
    "start_time_unix_secs",
    "call_duration_secs",
    "status",
    "direction",
    "channel",
    "agent_id",
    "agent_name",
    "from_number",
    "to_number",
    "campaign_id",
    "message_count",
    "interrupted_turns",
    "call_successful",
    "outcome",
    "sentiment",
    "termination_reason",
    "summary",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 ().-]*")


def safe_cell(value: str) -> str:
    """`value` as a spreadsheet will show it rather than run it."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _row(row: Any) -> list[str | int]:
    start: datetime = row.start
    return [
        row.conversation_id,
        start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        unix(start),
        "" if row.duration_secs is None else round(row.duration_secs),
        row.status,
        row.direction,
        row.channel,
        row.agent_id,
        safe_cell(row.agent_name),
        safe_cell(row.from_number),
        safe_cell(row.to_number),
        row.campaign_id or "",
        row.message_count,
        row.interrupted_turns,
        row.call_successful,
        row.outcome or "",
        row.sentiment or "",
        safe_cell(row.termination_reason),
        safe_cell(row.summary or ""),
    ]


def _lines(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def csv_stream(
    database: Database, organization_id: str, filters: CallFilters, direction: SortDirection
) -> Iterator[bytes]:
    """The header, then one chunk per batch of calls."""
    yield _lines([COLUMNS])
    with database.session() as session:
        for batch in call_search.export_rows(
            session, organization_id, filters, direction=direction
        ):
            yield _lines([_row(row) for row in batch])
