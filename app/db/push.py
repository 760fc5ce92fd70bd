"""Web Push subscriptions of users' devices, and the call backs whose owners are told they are
due (`app/outbound/callback_alerts.py` sends the messages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db.models import CampaignLead, LeadCallback, PushSubscription, new_id


def save_subscription(
    session: Session, organization_id: str, user_id: str, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Store a device's subscription for the user; the same endpoint again replaces its keys
    (and its owner: a shared device signed in as someone else)."""
    found = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if found is None:
        found = PushSubscription(
            id=new_id("push"),
            organization_id=organization_id,
            user_id=user_id,
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
            failures=0,
        )
        session.add(found)
    else:
        found.organization_id, found.user_id = organization_id, user_id
        found.p256dh, found.auth, found.failures = p256dh, auth, 0
    session.flush()
    return found


def remove_subscription(session: Session, user_id: str, endpoint: str) -> bool:
    removed = session.execute(
        delete(PushSubscription).where(
            PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint
        )
    )
    return int(getattr(removed, "rowcount", 0)) > 0


def remove_subscription_by_id(session: Session, subscription_id: str) -> None:
    session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


def note_delivery(session: Session, subscription_id: str, taken: bool, now: datetime) -> None:
    values = (
        {"last_sent_at": now, "failures": 0}
        if taken
        else {"failures": PushSubscription.failures + 1}
    )
    session.execute(
        update(PushSubscription).where(PushSubscription.id == subscription_id).values(**values)
    )


@dataclass(frozen=True, slots=True)
class DueCallback:
    callback_id: str
    lead_id: str
    due_at: datetime
    note: str
    phone_number: str
    lead_name: str
    subscriptions: tuple[PushSubscription, ...]


def claim_due_callbacks(session: Session, now: datetime, limit: int) -> list[DueCallback]:
    """Open call backs due by `now` whose owner was not told yet, marked told (so each is
    announced once, whichever worker runs), with their owners' subscriptions."""
    callbacks = list(
        session.scalars(
            select(LeadCallback)
            .where(
                LeadCallback.status == "open",
                LeadCallback.notified_at.is_(None),
                LeadCallback.due_at <= now,
                LeadCallback.owner_user_id.is_not(None),
            )
            .order_by(LeadCallback.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not callbacks:
        return []
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(CampaignLead).where(CampaignLead.id.in_({c.lead_id for c in callbacks}))
        )
    }
    owners = {c.owner_user_id for c in callbacks}
    by_owner: dict[str, list[PushSubscription]] = {}
    for subscription in session.scalars(
        select(PushSubscription).where(PushSubscription.user_id.in_(owners))
    ):
        by_owner.setdefault(subscription.user_id, []).append(subscription)
    due = []
    for callback in callbacks:
        callback.notified_at = now
        lead = leads[callback.lead_id]
        due.append(
            DueCallback(
                callback_id=callback.id,
                lead_id=lead.id,
                due_at=callback.due_at,
                note=callback.note,
                phone_number=lead.phone_number,
                lead_name=str(lead.variables.get("name", "")),
                subscriptions=tuple(by_owner.get(callback.owner_user_id or "", ())),
            )
        )
    session.flush()
    return due
