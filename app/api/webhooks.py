"""Webhook endpoints under `/v1/workspace/webhooks` (ElevenLabs' shape), and their delivery log.

An endpoint is created with a name and an http(s) URL; the answer carries its signing secret,
the only time it is shown. It receives the events it lists (all of Velox's by default:
`call_started`, `call_ended`, `analysis_ready`, `campaign_completed`), each a JSON body
`{type, event_id, event_timestamp, data}` signed in the `ElevenLabs-Signature` header.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StrictBool

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.times import unix, unix_or_none
from app.config.credentials import CredentialBox
from app.config.url_guard import UnresolvedUrlError, UnsafeUrlError, check_url_blocking
from app.config.webhook_signing import new_secret
from app.db import webhooks as webhook_rows
from app.db.models import WebhookDelivery, WebhookEndpoint
from app.settings import Settings

router = APIRouter(prefix="/v1/workspace/webhooks", tags=["webhooks"])

EventType = Literal["call_started", "call_ended", "analysis_ready", "campaign_completed"]
# Header names are HTTP tokens; values printable ASCII on one line.
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
HEADER_VALUE = re.compile(r"^[\x20-\x7e]{0,1000}$")


def _valid_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    for name, value in (headers or {}).items():
        if not HEADER_NAME.match(name):
            raise ValueError(f"header name {name!r:.60} is not an HTTP token")
        if not HEADER_VALUE.match(value):
            raise ValueError(f"header {name}: value must be printable ASCII on one line")
    return headers


HeaderMap = Annotated[
    dict[str, Annotated[str, Field(pattern=HEADER_VALUE.pattern)]],
    Field(max_length=20, json_schema_extra={"propertyNames": {"pattern": HEADER_NAME.pattern}}),
    AfterValidator(_valid_headers),
]


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    auth_type: Literal["hmac"] = "hmac"
    name: str = Field(min_length=1, max_length=200)
    webhook_url: AnyHttpUrl
    request_headers: HeaderMap | None = None


class WebhookCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    settings: WebhookSettings
    events: list[EventType] | None = None


class WebhookUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    is_disabled: StrictBool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    retry_enabled: StrictBool | None = None
    request_headers: HeaderMap | None = None
    events: list[EventType] | None = None


class WebhookCreateResponse(BaseModel):
    webhook_id: str
    webhook_secret: str


class WebhookResponse(BaseModel):
    name: str
    webhook_id: str
    webhook_url: str
    is_disabled: bool
    is_auto_disabled: bool = False
    created_at_unix: int
    auth_type: str = "hmac"
    events: list[str]
    retry_enabled: bool
    most_recent_failure_error_code: int | None
    most_recent_failure_timestamp: int | None


class WebhookListResponse(BaseModel):
    webhooks: list[WebhookResponse]


class DeliveryResponse(BaseModel):
    delivery_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at_unix: int
    delivered_at_unix: int | None
    next_attempt_at_unix: int | None
    payload: dict[str, Any]


class DeliveryListResponse(BaseModel):
    deliveries: list[DeliveryResponse]


def _response(endpoint: WebhookEndpoint) -> WebhookResponse:
    return WebhookResponse(
        name=endpoint.name,
        webhook_id=endpoint.id,
        webhook_url=endpoint.url,
        is_disabled=endpoint.is_disabled,
        created_at_unix=unix(endpoint.created_at),
        events=list(endpoint.events),
        retry_enabled=endpoint.retry_enabled,
        most_recent_failure_error_code=endpoint.most_recent_failure_status,
        most_recent_failure_timestamp=unix_or_none(endpoint.most_recent_failure_at),
    )


def delivery_response(delivery: WebhookDelivery) -> DeliveryResponse:
    pending = delivery.status in ("pending", "sending")
    return DeliveryResponse(
        delivery_id=delivery.id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at_unix=unix(delivery.created_at),
        delivered_at_unix=unix_or_none(delivery.delivered_at),
        next_attempt_at_unix=unix_or_none(delivery.next_attempt_at) if pending else None,
        payload=delivery.payload,
    )


@router.post("")
def create_webhook(
    body: WebhookCreateRequest, request: Request, session: SessionDep, principal: PrincipalDep
) -> WebhookCreateResponse:
    organization = principal.organization
    settings: Settings = request.app.state.settings
    url = str(body.settings.webhook_url)
    try:
        check_url_blocking(url, allow_private=settings.allow_private_urls)
    except UnresolvedUrlError:
        pass  # not known to be private: each delivery checks the address it is sent to
    except UnsafeUrlError as error:
        raise api_error(status.HTTP_422_UNPROCESSABLE_CONTENT, "unsafe_url", str(error)) from error
    secret = new_secret()
    endpoint = webhook_rows.create_endpoint(
        session,
        organization.id,
        name=body.settings.name,
        url=url,
        encrypted_secret=CredentialBox(settings.signing_secret()).encrypt(secret),
        request_headers=body.settings.request_headers or {},
        events=list(body.events or webhook_rows.EVENT_TYPES),
    )
    audit(session, principal, "created", "webhook", endpoint.id, url=endpoint.url)
    return WebhookCreateResponse(webhook_id=endpoint.id, webhook_secret=secret)


@router.get("")
def list_webhooks(session: SessionDep, organization: OrganizationDep) -> WebhookListResponse:
    endpoints = webhook_rows.list_endpoints(session, organization.id)
    return WebhookListResponse(webhooks=[_response(e) for e in endpoints])


@router.patch("/{webhook_id}")
def update_webhook(
    webhook_id: str, body: WebhookUpdateRequest, session: SessionDep, principal: PrincipalDep
) -> WebhookResponse:
    organization = principal.organization
    endpoint = webhook_rows.get_endpoint(session, organization.id, webhook_id)
    if endpoint is None:
        raise not_found("webhook", webhook_id)
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(endpoint, name, list(value) if name == "events" else value)
    session.flush()
    audit(
        session,
        principal,
        "changed",
        "webhook",
        webhook_id,
        fields=sorted(body.model_dump(exclude_none=True)),
    )
    return _response(endpoint)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    organization = principal.organization
    if not webhook_rows.delete_endpoint(session, organization.id, webhook_id):
        raise not_found("webhook", webhook_id)
    audit(session, principal, "deleted", "webhook", webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    organization: OrganizationDep,
    limit: int = Query(default=100, ge=1, le=1000),
) -> DeliveryListResponse:
    """The endpoint's most recent deliveries, newest first: every try's status code and error."""
    if webhook_rows.get_endpoint(session, organization.id, webhook_id) is None:
        raise not_found("webhook", webhook_id)
    deliveries = webhook_rows.list_deliveries(session, organization.id, webhook_id, limit)
    return DeliveryListResponse(deliveries=[delivery_response(d) for d in deliveries])
