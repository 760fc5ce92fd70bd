"""Webhook endpoints and deliveries: an outbox written in the same transaction as the event.

`enqueue_event` adds one delivery per enabled endpoint that wants the event, so an event is
sent exactly when what it reports is committed; the workers deliver (workers/webhooks.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import leases
from app.db.leases import LeasedQueue
from app.db.models import WebhookDelivery, WebhookEndpoint, new_id, utc_now

# Events Velox sends, in the order of a call's life.
EVENT_TYPES = ("call_started", "call_ended", "analysis_ready", "campaign_completed")


def create_endpoint(
    session: Session,
    organization_id: str,
    *,
    name: str,
    url: str,
    encrypted_secret: str,
    request_headers: Mapping[str, str],
    events: list[str],
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        id=new_id("whk"),
        organization_id=organization_id,
        name=name,
        url=url,
        encrypted_secret=encrypted_secret,
        request_headers=dict(request_headers),
        events=events,
        is_disabled=False,
        retry_enabled=True,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(session: Session, organization_id: str) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.organization_id == organization_id)
    return list(session.scalars(query.order_by(WebhookEndpoint.created_at)))


def get_endpoint(
    session: Session, organization_id: str, endpoint_id: str
) -> WebhookEndpoint | None:
    return session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.organization_id == organization_id, WebhookEndpoint.id == endpoint_id
        )
    )


def delete_endpoint(session: Session, organization_id: str, endpoint_id: str) -> bool:
    endpoint = get_endpoint(session, organization_id, endpoint_id)
    if endpoint is None:
        return False
    session.delete(endpoint)
    session.flush()
    return True


def enqueue_event(
    session: Session, organization_id: str, event_type: str, data: Mapping[str, Any]
) -> int:
    """Queue `event_type` with `data` for every enabled endpoint of the organization that wants
    it; returns how many deliveries were queued. An event about a call (`data` names its
    `conversation_id`) is filed under that call too."""
    endpoints = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.organization_id == organization_id,
            WebhookEndpoint.is_disabled.is_(False),
        )
    ).all()
    now = utc_now()
    conversation_id = data.get("conversation_id")
    queued = 0
    for endpoint in endpoints:
        if event_type not in endpoint.events:
            continue
        delivery_id = new_id("whd")
        payload = {
            "type": event_type,
            "event_id": delivery_id,
            "event_timestamp": int(now.timestamp()),
            "data": dict(data),
        }
        session.add(
            WebhookDelivery(
                id=delivery_id,
                endpoint_id=endpoint.id,
                organization_id=organization_id,
                event_type=event_type,
                conversation_id=conversation_id if _is_call_id(conversation_id) else None,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error="",
            )
        )
        queued += 1
    if queued:
        session.flush()
    return queued


def _is_call_id(value: object) -> bool:
    """A call's id as Velox makes them (the column holds 64 characters at most)."""
    return isinstance(value, str) and 0 < len(value) <= 64


DELIVERIES = LeasedQueue(
    WebhookDelivery,
    key=WebhookDelivery.id,
    status=WebhookDelivery.status,
    attempts=WebhookDelivery.attempts,
    due_at=WebhookDelivery.next_attempt_at,
    held="sending",
)


def claim_next(
    session: Session, now: datetime, lease: timedelta
) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    """Take the next due delivery of an enabled endpoint for this worker: it becomes `sending`
    until `now + lease` (then due again, should this worker die); see `app.db.leases`."""
    claim = leases.claim_next(
        session,
        DELIVERIES,
        now,
        lease,
        join=(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id),
        where=[WebhookEndpoint.is_disabled.is_(False)],
    )
    if claim is None:
        return None
    delivery = session.scalars(select(WebhookDelivery).where(WebhookDelivery.id == claim.key)).one()
    endpoint = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id)
    ).one()
    return delivery, endpoint


def record_attempt(
    session: Session,
    delivery_id: str,
    attempt: int,
    *,
    status_code: int | None,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Store one try's result: delivered (2xx), due again at `retry_at`, or failed for good.
    Only the try that holds the delivery (its `attempt`) may write."""
    delivered = status_code is not None and 200 <= status_code < 300
    now = utc_now()
    values: dict[str, Any] = {"last_status_code": status_code, "last_error": error}
    if delivered:
        values |= {"status": "delivered", "delivered_at": now}
    elif retry_at is not None:
        values |= {"status": "pending", "next_attempt_at": retry_at}
    else:
        values |= {"status": "failed"}
    session.execute(
        update(WebhookDelivery).where(DELIVERIES.held_by(delivery_id, attempt)).values(**values)
    )
    if not delivered:
        endpoint_id = session.scalar(
            select(WebhookDelivery.endpoint_id).where(WebhookDelivery.id == delivery_id)
        )
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(most_recent_failure_status=status_code, most_recent_failure_at=now)
        )
    session.flush()


def list_deliveries(
    session: Session, organization_id: str, endpoint_id: str, limit: int
) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.organization_id == organization_id,
            WebhookDelivery.endpoint_id == endpoint_id,
        )
        .order_by(WebhookDelivery.seq.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def call_deliveries(
    session: Session, organization_id: str, conversation_id: str, limit: int
) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
    """The deliveries of events about one call, newest first, each with its endpoint."""
    query = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.organization_id == organization_id,
            WebhookDelivery.conversation_id == conversation_id,
        )
        .order_by(WebhookDelivery.seq.desc())
        .limit(limit)
    )
    return [(delivery, endpoint) for delivery, endpoint in session.execute(query)]
