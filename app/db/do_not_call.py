"""The organization's do-not-call list: numbers never to be called, and how each got on it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import DoNotCallEntry


def do_not_call_among(session: Session, organization_id: str, numbers: Iterable[str]) -> set[str]:
    """Which of `numbers` are on the organization's do-not-call list."""
    wanted = list(set(numbers))
    if not wanted:
        return set()
    query = select(DoNotCallEntry.phone_number).where(
        DoNotCallEntry.organization_id == organization_id,
        DoNotCallEntry.phone_number.in_(wanted),
    )
    return set(session.scalars(query))


def _do_not_call_entry(
    session: Session, organization_id: str, phone_number: str
) -> DoNotCallEntry | None:
    return session.scalar(
        select(DoNotCallEntry).where(
            DoNotCallEntry.organization_id == organization_id,
            DoNotCallEntry.phone_number == phone_number,
        )
    )


def add_do_not_call(
    session: Session, organization_id: str, phone_number: str, *, source: str, note: str = ""
) -> DoNotCallEntry:
    """Put `phone_number` (E.164) on the list; adding a listed number again changes nothing."""
    existing = _do_not_call_entry(session, organization_id, phone_number)
    if existing is not None:
        return existing
    entry = DoNotCallEntry(
        organization_id=organization_id, phone_number=phone_number, source=source, note=note
    )
    session.add(entry)
    session.flush()
    return entry


def list_do_not_call(session: Session, organization_id: str) -> list[DoNotCallEntry]:
    query = select(DoNotCallEntry).where(DoNotCallEntry.organization_id == organization_id)
    return list(session.scalars(query.order_by(DoNotCallEntry.id)))


def remove_do_not_call(session: Session, organization_id: str, phone_number: str) -> bool:
    entry = _do_not_call_entry(session, organization_id, phone_number)
    if entry is None:
        return False
    session.delete(entry)
    session.flush()
    return True
