"""The call list as CSV (UTF-8, one line per call, lines ending in `\\n`), in chunks.

On PostgreSQL the database writes the CSV itself (`COPY (SELECT …) TO STDOUT`, streamed): every
cell is formatted in SQL exactly as the Python path formats it on SQLite, so both databases give
the same bytes. A text cell that a spreadsheet would run as a formula (it starts with `=`, `+`,
`-`, `@`, a tab or a carriage return, and is not a plain number such as `+15550001111`) is
written with a leading `'`. Empty text and missing values are empty cells.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, and_, case, cast, func, literal, select
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from app.db.call_digests import call_digests
from app.db.call_search import (
    CallFilters,
    SortDirection,
    call_of_digest,
    digest,
    export_rows,
    finished_analysis,
    in_order,
    with_filters,
)
from app.db.models import Agent, Call, CallAnalysis

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
_PLAIN_NUMBER = "[+-]?[0-9][0-9 ().-]*"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
# The same two tests as PostgreSQL regular expressions.
_FORMULA_START_SQL = "^[-=+@\t\r]"
_PLAIN_NUMBER_SQL = f"^{_PLAIN_NUMBER}$"
# Kilobytes the database writes before a chunk is handed on.
COPY_CHUNK_BYTES = 64 * 1024


def safe_cell(value: str) -> str:
    """`value` as a spreadsheet will show it rather than run it."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER_RE.fullmatch(value):
        return "'" + value
    return value


def csv_chunks(
    session: Session, organization_id: str, filters: CallFilters, direction: SortDirection
) -> Iterator[bytes]:
    """The header, then the calls `filters` allows in start-time order, a chunk at a time."""
    yield _lines([COLUMNS])
    if session.get_bind().dialect.name == "postgresql":
        yield from _copied(session, organization_id, filters, direction)
        return
    for batch in export_rows(session, organization_id, filters, direction=direction):
        yield _lines([_row(row) for row in batch])


# --- SQLite: rows formatted here --------------------------------------------------------------


def _row(row: Any) -> list[str | int]:
    start: datetime = row.start
    return [
        row.conversation_id,
        start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        int(start.timestamp()),
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
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


# --- PostgreSQL: the database writes the CSV ------------------------------------------------


Column = ColumnElement[Any] | QueryableAttribute[Any]


def _text(value: Column) -> ColumnElement[Any]:
    """Empty text as a missing value: COPY writes NULL as an empty cell, '' as `""`."""
    return func.nullif(cast(value, String), "")


def _safe(value: Column) -> ColumnElement[Any]:
    formula = and_(
        value.op("~")(literal(_FORMULA_START_SQL)),
        value.op("!~")(literal(_PLAIN_NUMBER_SQL)),
    )
    return _text(case((formula, literal("'") + value), else_=value))


def _copied(
    session: Session, organization_id: str, filters: CallFilters, direction: SortDirection
) -> Iterator[bytes]:
    start = digest.call_start
    query: Select[Any] = (
        select(
            Call.id,
            func.to_char(func.timezone("UTC", start), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            cast(func.floor(func.extract("epoch", start)), BigInteger),
            cast(func.round(digest.duration_secs), BigInteger),
            _text(digest.status),
            _text(digest.direction),
            _text(digest.channel),
            _text(digest.agent_id),
            _safe(Agent.name),
            _safe(Call.from_number),
            _safe(Call.to_number),
            _text(digest.campaign_id),
            digest.message_count,
            digest.interrupted_turns,
            func.coalesce(digest.call_successful, "unknown"),
            _text(digest.outcome),
            _text(digest.sentiment),
            _safe(digest.termination_reason),
            _safe(CallAnalysis.summary),
        )
        .select_from(call_digests)
        .join(Call, call_of_digest)
        .join(Agent, Agent.id == Call.agent_id)
        .outerjoin(CallAnalysis, finished_analysis)
    )
    query = in_order(with_filters(query, session, organization_id, filters), direction)
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the database connection is closed")
    pending = bytearray()
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params) as copy,
    ):
        for data in copy:
            pending += data
            if len(pending) >= COPY_CHUNK_BYTES:
                yield bytes(pending)
                pending.clear()
    if pending:
        yield bytes(pending)
