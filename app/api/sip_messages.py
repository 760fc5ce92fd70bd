"""`GET /v1/convai/conversations/{conversation_id}/sip-messages`: a SIP call's messages as they
went over the wire, for debugging a trunk (ElevenLabs' shape, a page at a time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from app.api.deps import OrganizationDep, SessionDep
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.db import calls as call_queries
from app.db import sip_messages as message_queries

router = APIRouter(prefix="/v1/convai/conversations", tags=["conversations"])


class SipLogMessage(BaseModel):
    call_id: str  # the SIP Call-ID
    phone_numbers: list[str]
    local_address: str
    remote_address: str
    transport: str
    raw_message: str
    error_message: str
    direction: str  # in, out
    created_at_unix_micro: int


class SipLogMessages(BaseModel):
    sip_messages: list[SipLogMessage]
    next_cursor: str | None = None
    has_more: bool = False


@router.get(
    "/{conversation_id}/sip-messages",
    response_model=SipLogMessages,
    responses=error_responses(404, 422),
)
def get_sip_messages(
    conversation_id: str,
    organization: OrganizationDep,
    session: SessionDep,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> SipLogMessages:
    """The call's SIP messages in the order they went (none for a call that is not SIP)."""
    call = call_queries.get_call(session, organization.id, conversation_id)
    if call is None:
        raise not_found("conversation", conversation_id)
    if cursor is not None and not cursor.isdigit():
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "invalid_cursor",
            "cursor must be a next_cursor this endpoint returned",
        )
    after = int(cursor) if cursor else 0
    rows = message_queries.list_sip_messages(
        session, organization.id, call.id, limit=page_size + 1, after=after
    )
    page = rows[:page_size]
    numbers = [number for number in (call.from_number, call.to_number) if number]
    return SipLogMessages(
        sip_messages=[
            SipLogMessage(
                call_id=row.sip_call_id,
                phone_numbers=numbers,
                local_address=row.local_address,
                remote_address=row.remote_address,
                transport="udp",
                raw_message=row.raw_message,
                error_message="",
                direction=row.direction,
                created_at_unix_micro=row.created_at_unix_micro,
            )
            for row in page
        ],
        next_cursor=str(page[-1].id) if len(rows) > page_size else None,
        has_more=len(rows) > page_size,
    )
