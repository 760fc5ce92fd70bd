"""A campaign's leads for managers: listed with their owners and last calls, given to a field
agent or taken back (`/v1/campaigns/{id}/leads`). The rules are in
`app/outbound/field_leads.py`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.lead_views import (
    MAX_LEADS_PAGE,
    LeadResponse,
    LeadsPage,
    LeadStatus,
    after_cursor,
    lead_views,
    leads_page,
)
from app.api.openapi import error_responses
from app.db import campaigns as campaign_queries
from app.db import field_leads as rows
from app.db.models import utc_now
from app.outbound import field_leads

router = APIRouter(tags=["field leads"])


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The field agent's address; null takes the lead back from its owner.
    owner_email: str | None = Field(max_length=320)


@router.get("/v1/campaigns/{campaign_id}/leads", responses=error_responses(404, 422))
def campaign_leads(
    campaign_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    owner_email: Annotated[str | None, Query(max_length=320)] = None,
    status_filter: Annotated[LeadStatus | None, Query(alias="status")] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_LEADS_PAGE)] = 100,
    cursor: str | None = None,
) -> LeadsPage:
    """A campaign's leads in import order, with their owners and last calls; `owner_email`
    narrows to one field agent's."""
    organization_id = principal.organization.id
    if campaign_queries.get_campaign(session, organization_id, campaign_id) is None:
        raise not_found("campaign", campaign_id)
    owner_id = None
    if owner_email is not None:
        owner_id = rows.field_agents_by_email(session, organization_id).get(
            owner_email.strip().lower()
        )
        if owner_id is None:
            return LeadsPage(leads=[], next_cursor=None)
    leads = rows.campaign_leads_page(
        session,
        campaign_id,
        after_seq=after_cursor(cursor),
        limit=page_size + 1,
        owner_user_id=owner_id,
        status=status_filter,
    )
    return leads_page(session, leads, page_size)


@router.patch("/v1/campaigns/{campaign_id}/leads/{lead_id}", responses=error_responses(404, 422))
def assign_lead(
    campaign_id: str,
    lead_id: str,
    body: AssignRequest,
    session: SessionDep,
    principal: PrincipalDep,
) -> LeadResponse:
    """Give a lead to a field agent (`owner_email`), or take it back (`null`); its open call
    backs go with it."""
    lead = rows.lead_of_campaign(session, principal.organization.id, campaign_id, lead_id)
    if lead is None:
        raise not_found("lead", lead_id)
    before = lead.owner_user_id
    try:
        field_leads.assign(session, lead, body.owner_email, utc_now())
    except field_leads.UnknownOwnerError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown_owner", str(error)
        ) from None
    if lead.owner_user_id != before:
        audit(session, principal, "changed", "lead", lead.id, owner=body.owner_email)
    return lead_views(session, [lead])[0]
