"""Users, their invites and sessions, and the audit log: the rows and the queries.

Tokens (invites, sessions, CSRF) are 32 random bytes; only their SHA-256 is stored, so a copy of
the database lets nobody sign in. What a role may do and how sign-in is throttled is decided in
`app/people/`; this module reads and writes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.models import AuditEntry, User, UserInvite, UserSession, new_id, utc_now

INVITE_PREFIX = "vi_"
SESSION_PREFIX = "vs_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


# --- users ----------------------------------------------------------------------------------


def create_user(session: Session, organization_id: str, email: str, role: str) -> User:
    user = User(
        id=new_id("user"),
        organization_id=organization_id,
        email=normalize_email(email),
        role=role,
        failed_sign_ins=0,
    )
    session.add(user)
    session.flush()
    return user


def user_by_email(session: Session, email: str, *, for_update: bool = False) -> User | None:
    query = select(User).where(User.email == normalize_email(email))
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def get_user(session: Session, organization_id: str, user_id: str) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.organization_id == organization_id else None


def list_users(session: Session, organization_id: str) -> list[User]:
    query = select(User).where(User.organization_id == organization_id).order_by(User.email)
    return list(session.scalars(query))


def delete_user(session: Session, user: User) -> None:
    session.delete(user)
    session.flush()


# --- invites ----------------------------------------------------------------------------------


def create_invite(session: Session, user: User, ttl: timedelta) -> str:
    """A new one-time invite for `user`; earlier unused ones stop working. The token returned
    is stored nowhere."""
    now = utc_now()
    session.execute(
        update(UserInvite)
        .where(UserInvite.user_id == user.id, UserInvite.used_at.is_(None))
        .values(used_at=now)
    )
    token = INVITE_PREFIX + secrets.token_hex(32)
    session.add(
        UserInvite(
            token_hash=token_hash(token),
            user_id=user.id,
            organization_id=user.organization_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


def take_invite(session: Session, token: str, now: datetime) -> UserInvite | None:
    """Use the invite once: None if unknown, used or expired (the row is locked meanwhile)."""
    invite = session.scalar(
        select(UserInvite).where(UserInvite.token_hash == token_hash(token)).with_for_update()
    )
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    invite.used_at = now
    session.flush()
    return invite


def invite_state(session: Session, token: str, now: datetime) -> str:
    """`valid`, `used`, `expired` or `unknown`: why an invite would (not) be taken."""
    invite = session.get(UserInvite, token_hash(token))
    if invite is None:
        return "unknown"
    if invite.used_at is not None:
        return "used"
    return "expired" if invite.expires_at <= now else "valid"


# --- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime


def create_session(session: Session, user: User, ttl: timedelta) -> NewSession:
    now = utc_now()
    token = SESSION_PREFIX + secrets.token_hex(32)
    csrf_token = secrets.token_hex(32)
    row = UserSession(
        token_hash=token_hash(token),
        csrf_hash=token_hash(csrf_token),
        user_id=user.id,
        organization_id=user.organization_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return NewSession(token, csrf_token, row.expires_at)


def live_session(
    session: Session, token: str, now: datetime, idle: timedelta
) -> tuple[UserSession, User] | None:
    """The session and its user, if the session is not revoked, not past its end, used within
    `idle`, and its user is not disabled."""
    row = session.get(UserSession, token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + idle <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return row, user


def note_session_use(session: Session, hashed: str, now: datetime) -> None:
    """Record a use: the idle window starts again (the session's end stays where it was)."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hashed, UserSession.revoked_at.is_(None))
        .values(last_seen_at=now)
    )


def revoke_session(session: Session, token: str) -> bool:
    revoked = session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    return getattr(revoked, "rowcount", 0) == 1


def revoke_user_sessions(session: Session, user_id: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )


# --- the audit log ----------------------------------------------------------------------------


def record_audit(
    session: Session,
    organization_id: str,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            organization_id=organization_id,
            actor=actor[:400],
            action=action,
            target_type=target_type,
            target_id=target_id[:200],
            detail=detail or {},
        )
    )
    session.flush()


def list_audit(
    session: Session,
    organization_id: str,
    limit: int,
    before_seq: int | None = None,
    *,
    action: str | None = None,
    target_type: str | None = None,
    actor: str | None = None,
) -> list[AuditEntry]:
    """The organization's entries, newest first; narrowed to one action, one kind of target,
    and an actor containing `actor` (case-insensitive) when given."""
    query = select(AuditEntry).where(AuditEntry.organization_id == organization_id)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if actor:
        escaped = actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditEntry.actor.ilike(f"%{escaped}%", escape="\\"))
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))
