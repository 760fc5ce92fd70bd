"""The webhook deliveries of one call (`/v1/convai/conversations/{id}/webhook-deliveries`), for
the call page: which of the organization's endpoints were told about the call, and how each try
went. Readable by whoever may read the call (the same delivery log per endpoint is under
`/v1/workspace/webhooks/{id}/deliveries`)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.deps import OrganizationDep, SessionDep
from app.api.errors import not_found
from app.api.openapi import error_responses
from app.api.webhooks import DeliveryResponse, delivery_response
from app.db import call_review
from app.db import webhooks as webhook_rows

router = APIRouter(prefix="/v1/convai/conversations", tags=["conversations"])


class CallDeliveryResponse(DeliveryResponse):
    webhook_id: str
    webhook_name: str
    webhook_url: str


class CallDeliveryListResponse(BaseModel):
    deliveries: list[CallDeliveryResponse]


@router.get("/{conversation_id}/webhook-deliveries", responses=error_responses(404))
def list_call_deliveries(
    conversation_id: str,
    session: SessionDep,
    organization: OrganizationDep,
    limit: int = Query(default=100, ge=1, le=1000),
) -> CallDeliveryListResponse:
    """The deliveries of the events about this call (started, ended, analysis ready), newest
    first, each with the endpoint it went to, its status, tries, last HTTP status or error and
    its JSON body."""
    if call_review.call_audio(session, organization.id, conversation_id) is None:
        raise not_found("conversation", conversation_id)
    rows = webhook_rows.call_deliveries(session, organization.id, conversation_id, limit)
    return CallDeliveryListResponse(
        deliveries=[
            CallDeliveryResponse(
                **delivery_response(delivery).model_dump(),
                webhook_id=endpoint.id,
                webhook_name=endpoint.name,
                webhook_url=endpoint.url,
            )
            for delivery, endpoint in rows
        ]
    )
