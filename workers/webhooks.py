"""Webhook delivery: beat's task sends the queued deliveries (app/db/webhooks.py), signed.

Each body is signed as ElevenLabs signs its webhooks, so the same receiver code (and the
`elevenlabs` SDK's `webhooks.construct_event`) verifies it: the header
`ElevenLabs-Signature: t=<unix time>,v0=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
A delivery that gets no 2xx is tried again with exponential backoff; one whose worker died is
taken again when its lease runs out, so a receiver may see an event twice (`event_id` and the
`Velox-Delivery` header tell it so) but never loses one.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import httpx

from app.credentials import CredentialBox
from app.db import webhooks as webhook_rows
from app.db.models import utc_now
from app.webhook_signing import SIGNATURE_HEADER, signature
from workers.celery_app import worker_task
from workers.database import task_database, task_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_S = 3600.0
REQUEST_TIMEOUT_S = 10.0
BATCH = 50
# A delivery being sent is someone's for this long; then it is due again.
LEASE = timedelta(seconds=REQUEST_TIMEOUT_S * 3)


@worker_task(bind=True, name="workers.webhooks.deliver", time_limit=120, soft_time_limit=100)
def deliver(self: Any) -> dict[str, Any]:
    """Send every due delivery once; returns how many were delivered, retried and failed."""
    database = task_database(self.app)
    settings = task_settings(self.app)
    box = CredentialBox(settings.signing_secret())
    with database.session() as session:
        claimed = [
            (delivery.id, delivery.attempts, delivery.payload, endpoint)
            for delivery, endpoint in webhook_rows.claim_due(session, utc_now(), LEASE, BATCH)
        ]
        sends = [
            (
                delivery_id,
                attempt,
                payload,
                endpoint.url,
                dict(endpoint.request_headers),
                box.decrypt(endpoint.encrypted_secret),
                endpoint.retry_enabled,
            )
            for delivery_id, attempt, payload, endpoint in claimed
        ]
    counts = {"delivered": 0, "retried": 0, "failed": 0}
    with httpx.Client(timeout=REQUEST_TIMEOUT_S, follow_redirects=False) as client:
        for delivery_id, attempt, payload, url, headers, secret, retry_enabled in sends:
            body = json.dumps(payload, separators=(",", ":"))
            status_code, error = _post(client, url, body, secret, headers, delivery_id, payload)
            delivered = status_code is not None and 200 <= status_code < 300
            retry_at = None
            if not delivered and retry_enabled and attempt < MAX_ATTEMPTS:
                backoff = min(settings.webhook_retry_base_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
                retry_at = utc_now() + timedelta(seconds=backoff)
            with database.session() as session:
                webhook_rows.record_attempt(
                    session,
                    delivery_id,
                    attempt,
                    status_code=status_code,
                    error=error,
                    retry_at=retry_at,
                )
            outcome = "delivered" if delivered else "retried" if retry_at else "failed"
            counts[outcome] += 1
    return counts


def _post(
    client: httpx.Client,
    url: str,
    body: str,
    secret: str,
    headers: dict[str, str],
    delivery_id: str,
    payload: dict[str, Any],
) -> tuple[int | None, str]:
    timestamp = int(utc_now().timestamp())
    sent_headers = {
        **headers,
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Velox-Event": str(payload.get("type", "")),
        "Velox-Delivery": delivery_id,
    }
    try:
        response = client.post(url, content=body.encode(), headers=sent_headers)
    except httpx.HTTPError as failure:
        log.warning("webhook %s to %s failed: %s", delivery_id, url, failure)
        return None, f"{type(failure).__name__}: {failure}"[:500]
    return response.status_code, "" if response.is_success else response.text[:500]
