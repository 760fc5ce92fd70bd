"""A campaign's report, `GET /v1/campaigns/{id}/report`: its leads as CSV, streamed (the rows
are written by `app/db/campaign_report.py` in a session of the stream's own, since the response
outlives the request's session)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.api.deps import OrganizationDep, SessionDep, get_database
from app.api.errors import not_found
from app.api.openapi import error_responses
from app.db import campaigns as campaign_queries
from app.db.campaign_report import report_chunks
from app.db.session import Database

router = APIRouter(tags=["campaigns"])


@router.get(
    "/v1/campaigns/{campaign_id}/report",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One header line, then one line per lead in import order",
        },
        **error_responses(404),
    },
)
def campaign_report(
    campaign_id: str, request: Request, session: SessionDep, organization: OrganizationDep
) -> StreamingResponse:
    """The campaign's leads as CSV: lead_id, phone_number, name, time_zone, owner_email, status,
    finished_reason, attempts_made, last_outcome, last_conversation_id, last_call_start_time
    (UTC), last_call_duration_secs, last_call_summary, variables (JSON)."""
    if campaign_queries.get_campaign(session, organization.id, campaign_id) is None:
        raise not_found("campaign", campaign_id)
    return StreamingResponse(
        _stream(get_database(request), campaign_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'},
    )


def _stream(database: Database, campaign_id: str) -> Iterator[bytes]:
    with database.session() as session:
        yield from report_chunks(session, campaign_id)
