"""Telling field agents their call backs are due: a Web Push message to each device they
subscribed, signed with the service's VAPID key and encrypted to the device (aes128gcm).

Each due call back is announced once (it is marked when claimed, before sending): a device
that cannot be reached then misses that message, and the app's list still shows the call back.
A subscription its push service says is gone (404, 410) is deleted; others count failures.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from app.config.vapid import vapid_key
from app.db import push as push_rows
from app.db.models import PushSubscription
from app.db.session import Database
from app.settings import Settings

log = logging.getLogger(__name__)

BATCH = 200
# A due message is worth little after this long: push services may drop it then.
MESSAGE_TTL_S = 3600
SEND_TIMEOUT_S = 10.0
GONE = (404, 410)

Sender = Callable[..., Any]


@dataclass
class AlertRun:
    callbacks: int = 0
    sent: int = 0
    failed: int = 0
    subscriptions_removed: int = 0


def send_due_callback_alerts(
    database: Database, settings: Settings, now: datetime, *, send: Sender = webpush
) -> AlertRun:
    """Announce every call back due by `now` to its owner's devices (blocking)."""
    run = AlertRun()
    vapid = Vapid02(private_key=vapid_key(settings.vapid_secret_bytes()))
    subject = settings.resolved_vapid_subject()
    while True:
        with database.session() as session:
            due = push_rows.claim_due_callbacks(session, now, BATCH)
        run.callbacks += len(due)
        for callback in due:
            payload = json.dumps(
                {
                    "type": "callback_due",
                    "title": f"Call back {callback.lead_name or callback.phone_number}",
                    "body": callback.note or f"Due now: {callback.phone_number}",
                    "lead_id": callback.lead_id,
                    "callback_id": callback.callback_id,
                    "due_at_unix_secs": int(callback.due_at.timestamp()),
                }
            )
            for subscription in callback.subscriptions:
                _send(database, send, subscription, payload, vapid, subject, now, run)
        if len(due) < BATCH:
            return run


def _send(
    database: Database,
    send: Sender,
    subscription: PushSubscription,
    payload: str,
    vapid: Vapid02,
    subject: str,
    now: datetime,
    run: AlertRun,
) -> None:
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    try:
        send(
            subscription_info=info,
            data=payload,
            vapid_private_key=vapid,
            vapid_claims={"sub": subject},
            ttl=MESSAGE_TTL_S,
            timeout=SEND_TIMEOUT_S,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        with database.session() as session:
            if status in GONE:
                push_rows.remove_subscription_by_id(session, subscription.id)
                run.subscriptions_removed += 1
            else:
                push_rows.note_delivery(session, subscription.id, False, now)
        run.failed += 1
        log.warning("push to %s failed: %s", subscription.id, str(error).splitlines()[0])
        return
    except Exception as error:  # the push service is unreachable, a key is malformed...
        with database.session() as session:
            push_rows.note_delivery(session, subscription.id, False, now)
        run.failed += 1
        log.warning("push to %s failed: %r", subscription.id, error)
        return
    with database.session() as session:
        push_rows.note_delivery(session, subscription.id, True, now)
    run.sent += 1
