"""A campaign's report as CSV: one line per lead, in import order, with its owner, how far the
dialer got with it and its last call (UTF-8, lines ending in `\\n`), read a page of leads at a
time so memory stays flat however large the campaign. Cells a spreadsheet would run as a
formula are written with a leading `'`, as the call list's export does."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.db.call_export import safe_cell
from app.db.field_leads import campaign_leads_page, last_calls, users_by_id

COLUMNS = (
    "lead_id",
    "phone_number",
    "name",
    "time_zone",
    "owner_email",
    "status",
    "finished_reason",
    "attempts_made",
    "last_outcome",
    "last_conversation_id",
    "last_call_start_time",
    "last_call_duration_secs",
    "last_call_summary",
    "variables",
)
# Leads read per query (three queries a page: the leads, their last calls, their owners).
PAGE_SIZE = 500


def report_chunks(session: Session, campaign_id: str) -> Iterator[bytes]:
    """The header, then the campaign's leads a page at a time. The caller has checked that the
    campaign belongs to the organization asking."""
    yield _lines([COLUMNS])
    after = 0
    while True:
        leads = campaign_leads_page(session, campaign_id, after_seq=after, limit=PAGE_SIZE)
        if not leads:
            return
        calls = last_calls(session, [lead.id for lead in leads])
        owners = users_by_id(session, {lead.owner_user_id for lead in leads if lead.owner_user_id})
        rows: list[list[str | int | float]] = []
        for lead in leads:
            call = calls.get(lead.id)
            owner = owners.get(lead.owner_user_id) if lead.owner_user_id else None
            variables = dict(lead.variables)
            rows.append(
                [
                    lead.id,
                    lead.phone_number,
                    safe_cell(str(variables.get("name", ""))),
                    lead.time_zone or "",
                    owner.email if owner is not None else "",
                    lead.status,
                    safe_cell(lead.finished_reason),
                    lead.attempts_made,
                    lead.last_outcome or "",
                    call.conversation_id if call is not None else "",
                    _iso(call.started_at) if call is not None else "",
                    _duration(call.duration_secs) if call is not None else "",
                    safe_cell(call.summary) if call is not None else "",
                    safe_cell(json.dumps(variables, ensure_ascii=False, sort_keys=True)),
                ]
            )
        yield _lines(rows)
        after = leads[-1].seq


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:g}"


def _lines(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()
