"""Finding an organization's calls: the filters of the call list and of its CSV export, one
order (by start time, newest or oldest first, then `seq`), and keyset pages.

A page's cursor is the position of its last call in that order, so the next page starts after it
whatever was stored meanwhile: calls added while a client pages arrive at the newest end and
shift nothing. A call's outcome is its campaign attempt's, else its analysis' (a campaign call
nobody answered has an attempt outcome but no analysis); its analysis counts once done or failed.

Every filter and the order read the call's digest (app/db/call_digests.py), one narrow row per
call that already holds what the call's analysis, dial and turns say, so a page walks one index
in the list's order and joins the full call only for the calls it shows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Integer,
    Row,
    Select,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.db.call_digests import call_digests, call_search
from app.db.models import Agent, Call, CallAnalysis, UtcDateTime
from app.db.paging import InvalidCursorError, Page, clamp_page_size
from app.db.search_text import SearchTerm, fts5_query, postgres_tsquery

SortDirection = Literal["desc", "asc"]
FINISHED_ANALYSES = ("done", "failed")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CallFilters:
    """What a listed call must be; an empty tuple or None leaves that filter out. Values are
    checked by the caller (the API knows each vocabulary)."""

    agent_id: str | None = None
    campaign_id: str | None = None
    channels: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    # "unknown" matches a call without a finished analysis too, as the list shows it.
    call_successful: tuple[str, ...] = ()
    started_from: datetime | None = None  # inclusive
    started_before: datetime | None = None  # exclusive
    min_duration_secs: float | None = None
    max_duration_secs: float | None = None
    # Either end of the call (the caller's or the called number), exactly.
    phone_number: str | None = None
    # Whether the caller cut the agent off at least once (a turn marked interrupted).
    interrupted: bool | None = None
    search: tuple[SearchTerm, ...] = ()


@dataclass(frozen=True, slots=True)
class CallSummary:
    """One row of a call list: the call plus what the list shows without loading turns."""

    call: Call
    agent_name: str
    message_count: int
    # The post-call analysis' verdict once it is done.
    call_successful: str | None = None
    # The campaign dial's outcome, else the finished analysis'; the analysis' sentiment.
    outcome: str | None = None
    sentiment: str | None = None


# --- the pieces every call query shares ------------------------------------------------------

digest = call_digests.c
finished_analysis = and_(
    CallAnalysis.call_id == Call.id, CallAnalysis.status.in_(FINISHED_ANALYSES)
)
call_of_digest = Call.seq == digest.call_seq


def with_filters(
    query: Select[Any], session: Session, organization_id: str, filters: CallFilters
) -> Select[Any]:
    """`query` (over `call_digests`) narrowed to the organization's calls that `filters`
    allows."""
    conditions: list[ColumnElement[bool]] = [digest.organization_id == organization_id]
    if filters.agent_id is not None:
        conditions.append(digest.agent_id == filters.agent_id)
    if filters.campaign_id is not None:
        conditions.append(digest.campaign_id == filters.campaign_id)
    for values, field in (
        (filters.channels, digest.channel),
        (filters.directions, digest.direction),
        (filters.statuses, digest.status),
        (filters.sentiments, digest.sentiment),
        (filters.outcomes, digest.outcome),
        (filters.call_successful, func.coalesce(digest.call_successful, "unknown")),
    ):
        if values:
            conditions.append(field.in_(values))
    if filters.started_from is not None:
        conditions.append(digest.call_start >= filters.started_from)
    if filters.started_before is not None:
        conditions.append(digest.call_start < filters.started_before)
    if filters.min_duration_secs is not None:
        conditions.append(digest.duration_secs >= filters.min_duration_secs)
    if filters.max_duration_secs is not None:
        conditions.append(digest.duration_secs <= filters.max_duration_secs)
    if filters.phone_number is not None:
        number = filters.phone_number
        conditions.append(
            digest.call_seq.in_(
                select(Call.seq).where(
                    Call.organization_id == organization_id,
                    or_(Call.from_number == number, Call.to_number == number),
                )
            )
        )
    if filters.interrupted is not None:
        interrupted = digest.interrupted_turns > 0
        conditions.append(interrupted if filters.interrupted else ~interrupted)
    if filters.search:
        conditions.append(_matches(session, filters.search))
    return query.where(*conditions)


def _matches(session: Session, terms: tuple[SearchTerm, ...]) -> ColumnElement[bool]:
    """The call's transcript or summary holds every term (app/db/search_text.py)."""
    if session.get_bind().dialect.name == "postgresql":
        query = func.to_tsquery(literal_column("'simple'::regconfig"), postgres_tsquery(terms))
        return digest.call_seq.in_(
            select(call_search.c.call_seq).where(call_search.c.document.bool_op("@@")(query))
        )
    matching = (
        text("SELECT rowid FROM call_search WHERE call_search MATCH :search_query")
        .bindparams(search_query=fts5_query(terms))
        .columns(column("rowid", Integer))
    )
    return digest.call_seq.in_(matching)


# --- order and cursors -------------------------------------------------------------------------


def _encode_position(direction: SortDirection, start: datetime, seq: int) -> str:
    micros = (start - _EPOCH) // timedelta(microseconds=1)
    raw = f"{direction}.{micros}.{seq}"
    return base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")


def _decode_position(cursor: str, direction: SortDirection) -> tuple[datetime, int]:
    """The start time and seq of the call a page ended on."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        issued_for, micros, seq = raw.split(".")
        position = _EPOCH + timedelta(microseconds=int(micros)), int(seq)
    except (binascii.Error, ValueError, UnicodeError, OverflowError) as error:
        raise InvalidCursorError(
            f"invalid cursor {cursor[:80]!r}: not one this service issued; start from the "
            "first page"
        ) from error
    if issued_for != direction:
        raise InvalidCursorError(
            f"the cursor belongs to sort_direction={issued_for!r}; ask with that, or start "
            "from the first page"
        )
    return position


def in_order(
    query: Select[Any], direction: SortDirection, cursor: str | None = None
) -> Select[Any]:
    key = tuple_(digest.call_start, digest.call_seq)
    if cursor:  # an empty cursor is the first page
        start, seq = _decode_position(cursor, direction)
        after = tuple_(literal(start, UtcDateTime()), literal(seq, Integer()))
        query = query.where(key < after if direction == "desc" else key > after)
    if direction == "desc":
        return query.order_by(digest.call_start.desc(), digest.call_seq.desc())
    return query.order_by(digest.call_start.asc(), digest.call_seq.asc())


# --- the list ----------------------------------------------------------------------------------


def find_calls(
    session: Session,
    organization_id: str,
    filters: CallFilters,
    *,
    direction: SortDirection = "desc",
    page_size: int = 30,
    cursor: str | None = None,
) -> Page[CallSummary]:
    """One page of the organization's calls that `filters` allows, in start-time order.
    `InvalidCursorError` for a cursor this service did not issue (or issued for the other
    direction)."""
    limit = clamp_page_size(page_size)
    query = (
        select(
            Call,
            Agent.name,
            digest.message_count,
            digest.call_successful,
            digest.outcome,
            digest.sentiment,
        )
        .select_from(call_digests)
        .join(Call, call_of_digest)
        .join(Agent, Agent.id == Call.agent_id)
    )
    query = in_order(with_filters(query, session, organization_id, filters), direction, cursor)
    rows = session.execute(query.limit(limit + 1)).all()
    summaries = [CallSummary(*row) for row in rows]
    if len(summaries) <= limit:
        return Page(items=summaries, next_cursor=None)
    last = summaries[limit - 1].call
    start = last.started_at or last.created_at
    return Page(items=summaries[:limit], next_cursor=_encode_position(direction, start, last.seq))


# --- the export --------------------------------------------------------------------------------


def export_rows(
    session: Session,
    organization_id: str,
    filters: CallFilters,
    *,
    direction: SortDirection = "desc",
    batch_size: int = 2000,
) -> Iterator[Sequence[Row[Any]]]:
    """Every call `filters` allows, in start-time order, as batches of plain rows (one query,
    streamed: a server-side cursor on PostgreSQL, so memory stays flat whatever the count).

    Each row has: conversation_id, start, duration_secs, status, direction, channel, agent_id,
    agent_name, from_number, to_number, campaign_id, message_count, interrupted_turns,
    call_successful, outcome, sentiment, termination_reason, summary.
    """
    query = (
        select(
            Call.id.label("conversation_id"),
            digest.call_start.label("start"),
            digest.duration_secs,
            digest.status,
            digest.direction,
            digest.channel,
            digest.agent_id,
            Agent.name.label("agent_name"),
            Call.from_number,
            Call.to_number,
            digest.campaign_id,
            digest.message_count,
            digest.interrupted_turns,
            func.coalesce(digest.call_successful, "unknown").label("call_successful"),
            digest.outcome,
            digest.sentiment,
            digest.termination_reason,
            CallAnalysis.summary,
        )
        .select_from(call_digests)
        .join(Call, call_of_digest)
        .join(Agent, Agent.id == Call.agent_id)
        .outerjoin(CallAnalysis, finished_analysis)
    )
    query = in_order(with_filters(query, session, organization_id, filters), direction)
    result = session.execute(query.execution_options(yield_per=batch_size))
    yield from result.partitions()
