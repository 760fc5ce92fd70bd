"""Webhook delivery: beat's task sends the queued deliveries (app/db/webhooks.py), signed.

Each body is signed as ElevenLabs signs its webhooks, so the same receiver code (and the
`elevenlabs` SDK's `webhooks.construct_event`) verifies it: the header
`ElevenLabs-Signature: t=<unix time>,v0=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
Each is sent to the address its host resolves to at that moment, and not at all when that
address is private (loopback, link-local, the deployment's network) unless the deployment
allows it (`VELOX_ALLOW_PRIVATE_URLS`). A delivery that gets no 2xx is tried again with
exponential backoff; one whose worker died is taken again when its lease runs out, so a
receiver may see an event twice (`event_id` and the `Velox-Delivery` header tell it so) but
never loses one.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode

from app.config.credentials import CredentialBox
from app.config.url_guard import UnsafeUrlError, check_url_blocking, host_header, pinned_url
from app.config.webhook_signing import SIGNATURE_HEADER, signature
from app.db import webhooks as webhook_rows
from app.db.models import WebhookDelivery, WebhookEndpoint, utc_now
from app.observability.tracing import linked_to, traceparent, tracer
from workers.celery_app import worker_task
from workers.database import task_database, task_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_S = 3600.0
REQUEST_TIMEOUT_S = 10.0
# How long one run of the task keeps sending before it leaves the rest to the next run.
WORK_S = 60.0
# A delivery being sent is its worker's for this long (well past one request's timeouts);
# then it is due again.
LEASE = timedelta(seconds=REQUEST_TIMEOUT_S * 6)


@worker_task(bind=True, name="workers.webhooks.deliver", time_limit=240, soft_time_limit=200)
def deliver(self: Any) -> dict[str, Any]:
    """Send the due deliveries one at a time, for up to `WORK_S`; returns how many were
    delivered, retried and failed. Each is claimed just before it is sent, so a slow endpoint
    never lets another worker's claim catch up with a delivery still being sent."""
    database = task_database(self.app)
    settings = task_settings(self.app)
    box = CredentialBox(settings.signing_secret())
    counts = {"delivered": 0, "retried": 0, "failed": 0}
    deadline = time.monotonic() + WORK_S
    with httpx.Client(timeout=REQUEST_TIMEOUT_S, follow_redirects=False) as client:
        while time.monotonic() < deadline:
            with database.session() as session:
                claimed = webhook_rows.claim_next(session, utc_now(), LEASE)
                if claimed is None:
                    break
                send = _Send.of(*claimed)
            status_code, error = _traced_post(client, box, send, settings.allow_private_urls)
            delivered = status_code is not None and 200 <= status_code < 300
            retry_at = None
            if not delivered and send.retry_enabled and send.attempt < MAX_ATTEMPTS:
                backoff = settings.webhook_retry_base_s * 2 ** (send.attempt - 1)
                retry_at = utc_now() + timedelta(seconds=min(backoff, MAX_BACKOFF_S))
            with database.session() as session:
                webhook_rows.record_attempt(
                    session,
                    send.delivery_id,
                    send.attempt,
                    status_code=status_code,
                    error=error,
                    retry_at=retry_at,
                )
            counts["delivered" if delivered else "retried" if retry_at else "failed"] += 1
    return counts


@dataclass(frozen=True, slots=True)
class _Send:
    delivery_id: str
    attempt: int
    payload: dict[str, Any]
    url: str
    headers: dict[str, str]
    encrypted_secret: str
    retry_enabled: bool

    @classmethod
    def of(cls, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> _Send:
        """A claimed delivery's send, as plain data (its session may close)."""
        return cls(
            delivery.id,
            delivery.attempts,
            delivery.payload,
            endpoint.url,
            dict(endpoint.request_headers),
            endpoint.encrypted_secret,
            endpoint.retry_enabled,
        )


def _traced_post(
    client: httpx.Client, box: CredentialBox, send: _Send, allow_private: bool
) -> tuple[int | None, str]:
    """`_post` in a `webhook.delivery` span linked to the call's span (an event about a call
    carries its `traceparent`); the request carries this span's, for the receiver's trace."""
    data = send.payload.get("data")
    call = data.get("traceparent") if isinstance(data, dict) else None
    attributes: dict[str, str | int] = {
        "velox.webhook.delivery_id": send.delivery_id,
        "velox.webhook.event": str(send.payload.get("type", "")),
        "velox.webhook.attempt": send.attempt,
    }
    if isinstance(data, dict) and isinstance(data.get("conversation_id"), str):
        attributes["velox.conversation_id"] = data["conversation_id"]
    with tracer().start_as_current_span(
        "webhook.delivery", kind=SpanKind.CLIENT, links=linked_to(call), attributes=attributes
    ) as span:
        status_code, error = _post(
            client, box, send, allow_private, traceparent(span.get_span_context())
        )
        if status_code is not None:
            span.set_attribute("http.response.status_code", status_code)
        if error:
            span.set_status(Status(StatusCode.ERROR, error[:200]))
        return status_code, error


def _post(
    client: httpx.Client,
    box: CredentialBox,
    send: _Send,
    allow_private: bool,
    trace_parent: str | None = None,
) -> tuple[int | None, str]:
    """POST the delivery, signed, to the address its host resolves to now, refused when that
    is private (unless `allow_private`, app/config/url_guard.py) and sent to that very address;
    its HTTP status, or None and why nothing was answered."""
    body = json.dumps(send.payload, separators=(",", ":"))
    try:
        checked = check_url_blocking(send.url, allow_private=allow_private)
    except UnsafeUrlError as refused:
        log.warning("webhook %s not sent: %s", send.delivery_id, refused.reason)
        return None, f"url_refused: {refused.reason}"[:500]
    try:
        secret = box.decrypt(send.encrypted_secret)
        headers = {
            **send.headers,
            **({"traceparent": trace_parent} if trace_parent else {}),
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(secret, int(utc_now().timestamp()), body),
            "Velox-Event": str(send.payload.get("type", "")),
            "Velox-Delivery": send.delivery_id,
            "Host": host_header(checked),
        }
        response = client.post(
            pinned_url(checked),
            content=body.encode(),
            headers=headers,
            extensions={"sni_hostname": checked.host},
        )
    except Exception as failure:  # any failure is this delivery's, never the batch's
        log.warning("webhook %s to %s failed: %s", send.delivery_id, send.url, failure)
        return None, f"{type(failure).__name__}: {failure}"[:500]
    return response.status_code, "" if response.is_success else response.text[:500]
