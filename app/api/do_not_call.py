"""The organization's do-not-call list under `/v1/do-not-call`: numbers no campaign dials.

Entries come from here (`source: api`), from callers who asked to be removed during a call
(`source: call`, written by the post-call analysis), and are checked before every dial.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.times import unix
from app.db import do_not_call as do_not_call_rows
from app.db.models import DoNotCallEntry
from campaigns.do_not_call import normalize_do_not_call_entry
from campaigns.phone_numbers import InvalidPhoneNumberError

router = APIRouter(tags=["campaigns"])


class DoNotCallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(min_length=1, max_length=40)
    note: str = Field(default="", max_length=500)


class DoNotCallResponse(BaseModel):
    phone_number: str
    source: str
    note: str
    created_at_unix_secs: int


def _entry(entry: DoNotCallEntry) -> DoNotCallResponse:
    return DoNotCallResponse(
        phone_number=entry.phone_number,
        source=entry.source,
        note=entry.note,
        created_at_unix_secs=unix(entry.created_at),
    )


def _e164(raw: str) -> str:
    try:
        return normalize_do_not_call_entry(raw)
    except InvalidPhoneNumberError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_phone_number", str(error)
        ) from None


@router.get("/v1/do-not-call")
def list_do_not_call(session: SessionDep, organization: OrganizationDep) -> list[DoNotCallResponse]:
    return [_entry(e) for e in do_not_call_rows.list_do_not_call(session, organization.id)]


@router.post("/v1/do-not-call", status_code=status.HTTP_201_CREATED)
def add_do_not_call(
    body: DoNotCallRequest, session: SessionDep, principal: PrincipalDep
) -> DoNotCallResponse:
    organization = principal.organization
    entry = do_not_call_rows.add_do_not_call(
        session, organization.id, _e164(body.phone_number), source="api", note=body.note
    )
    audit(session, principal, "created", "do_not_call", entry.phone_number)
    return _entry(entry)


@router.delete("/v1/do-not-call/{phone_number}", status_code=status.HTTP_204_NO_CONTENT)
def remove_do_not_call(phone_number: str, session: SessionDep, principal: PrincipalDep) -> Response:
    organization = principal.organization
    try:
        number = _e164(phone_number)
    except HTTPException:  # not a phone number, so not on the list either
        raise not_found("do-not-call entry", phone_number) from None
    if not do_not_call_rows.remove_do_not_call(session, organization.id, number):
        raise not_found("do-not-call entry", phone_number)
    audit(session, principal, "deleted", "do_not_call", number)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
