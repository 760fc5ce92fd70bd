"""The call list as CSV, streamed: the rows come from one query in a session of the export's
own (the response outlives the request's session), written by `app/db/call_export.py`, so
memory stays flat however many calls match."""

from __future__ import annotations

from collections.abc import Iterator

from app.db.call_export import csv_chunks
from app.db.call_search import CallFilters, SortDirection
from app.db.session import Database


def csv_stream(
    database: Database, organization_id: str, filters: CallFilters, direction: SortDirection
) -> Iterator[bytes]:
    """The header, then the matching calls a chunk at a time."""
    with database.session() as session:
        yield from csv_chunks(session, organization_id, filters, direction)
