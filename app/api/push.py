"""Web Push for the field agents' app: the service's public VAPID key, and the devices that
subscribed to be told when a call back falls due (`app/outbound/callback_alerts.py` sends)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.deps import PrincipalDep, SessionDep
from app.api.errors import api_error, not_found
from app.api.field_leads import user_id_of
from app.api.openapi import error_responses
from app.config.vapid import application_server_key, vapid_key
from app.db import push as push_rows
from app.settings import Settings

router = APIRouter(tags=["field leads"])


def _b64url(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


class SubscriptionKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)

    @field_validator("p256dh")
    @classmethod
    def _point(cls, value: str) -> str:
        raw = _b64url(value)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("p256dh must be an uncompressed P-256 point (65 bytes), base64url")
        return value

    @field_validator("auth")
    @classmethod
    def _secret(cls, value: str) -> str:
        if len(_b64url(value)) != 16:
            raise ValueError("auth must be 16 bytes, base64url")
        return value


class SubscriptionRequest(BaseModel):
    """A browser's `PushSubscription.toJSON()` (its `expirationTime` is ignored)."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=8, max_length=2000)
    keys: SubscriptionKeys


class SubscriptionResponse(BaseModel):
    subscription_id: str


class PushKeyResponse(BaseModel):
    # For `pushManager.subscribe({applicationServerKey})`.
    vapid_public_key: str


@router.get("/v1/me/push")
def push_key(request: Request, principal: PrincipalDep) -> PushKeyResponse:
    """The key a device subscribes with, so that messages signed by Velox reach it."""
    settings: Settings = request.app.state.settings
    return PushKeyResponse(
        vapid_public_key=application_server_key(vapid_key(settings.vapid_secret_bytes()))
    )


@router.post(
    "/v1/me/push-subscriptions",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 422),
)
def subscribe(
    body: SubscriptionRequest, request: Request, session: SessionDep, principal: PrincipalDep
) -> SubscriptionResponse:
    """This device wants to be told when my call backs fall due."""
    settings: Settings = request.app.state.settings
    endpoint = urlsplit(body.endpoint)
    allowed = ("https", "http") if settings.push_allow_http else ("https",)
    if endpoint.scheme not in allowed or not endpoint.hostname:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "invalid_endpoint",
            "a push endpoint is an https URL of the browser's push service",
        )
    saved = push_rows.save_subscription(
        session,
        principal.organization.id,
        user_id_of(principal),
        body.endpoint,
        body.keys.p256dh,
        body.keys.auth,
    )
    return SubscriptionResponse(subscription_id=saved.id)


@router.delete(
    "/v1/me/push-subscriptions",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, 404),
)
def unsubscribe(
    endpoint: Annotated[str, Query(max_length=2000)],
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    """This device no longer wants messages (signing out does this too)."""
    if not push_rows.remove_subscription(session, user_id_of(principal), endpoint):
        raise not_found("push subscription", endpoint)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
