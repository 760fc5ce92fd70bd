"""The people of an organization: users with a role, their invites and sign-in sessions, and
the audit log of what they (and API keys) changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, SurrogateKey, utc_now


class User(Base):
    """A person who signs in. E-mail addresses are unique across organizations, so signing in
    needs nothing but the address and the password."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Stored lower-cased: the address is matched as people type it.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # argon2id; None until the invite is accepted.
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    # Sign-in failures in a row, and until when signing in is refused after too many.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(default=None)
    # The agents a field agent may talk to; None: every agent of the organization.
    agent_ids: Mapped[list[str] | None] = mapped_column(JSON, default=None)


class UserInvite(Base):
    """A one-time link that lets a user set their password (a new user, or a reset)."""

    __tablename__ = "user_invites"

    # SHA-256 of the token (32 random bytes): the token itself is only in the link.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class UserSession(Base):
    """A signed-in user: a cookie for the dashboard or a bearer token for the app."""

    __tablename__ = "user_sessions"

    # SHA-256 of the session token; the CSRF token's hash beside it (cookie sessions).
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """Who created, changed or deleted what, and when (newest read first)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_organization_id_seq", "organization_id", "seq"),)

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    # `user:<email>` or `api_key:<name> (<prefix>…)` or `cli`.
    actor: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(16))  # created, changed, deleted
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PushSubscription(Base):
    """A browser or app that asked for Web Push messages for a user (its push service's
    endpoint and the keys its messages are encrypted to)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # Messages in a row its push service did not take; reset by one it took.
    failures: Mapped[int] = mapped_column(Integer, default=0)
