"""Accounts: inviting a user, accepting an invite, signing in and out, and who a session is.

Each function runs its own transaction where a failure must still be recorded (a wrong
password counts toward the lock-out even though the request fails). Sign-in answers the same
for an unknown address and a wrong password, and costs the same time: the address book of an
organization cannot be read off the sign-in form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.db import people as people_rows
from app.db.models import User, UserSession, utc_now
from app.db.session import Database
from app.people.passwords import (
    DECOY_HASH,
    check_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.people.roles import Role


@dataclass(frozen=True, slots=True)
class AccountRules:
    invite_ttl: timedelta = timedelta(days=7)
    # A session ends this long after sign-in, or after this long unused, whichever is first.
    session_ttl: timedelta = timedelta(days=7)
    session_idle: timedelta = timedelta(hours=12)
    # This many wrong passwords in a row lock the account for `lockout`.
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


class AccountError(Exception):
    """Refused, with a short machine-readable `reason` and a message that says why."""

    reason = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class EmailTakenError(AccountError):
    reason = "email_taken"


class InvalidInviteError(AccountError):
    reason = "invalid_invite"

    def __init__(self, message: str, state: str = "unknown") -> None:
        super().__init__(message)
        self.state = state  # unknown, used, expired, no_user


class InvalidCredentialsError(AccountError):
    reason = "invalid_credentials"


class AccountLockedError(AccountError):
    reason = "account_locked"

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: str
    email: str
    role: Role
    organization_id: str
    token: str
    csrf_token: str
    expires_at: datetime


def invite_user(
    session: Session,
    organization_id: str,
    email: str,
    role: Role,
    rules: AccountRules,
    *,
    actor: str,
) -> tuple[User, str]:
    """Create the user (no password yet) and their first invite token, in the caller's
    transaction, and note who did it in the audit log."""
    if people_rows.user_by_email(session, email) is not None:
        raise EmailTakenError(f"a user with the address {email.strip().lower()} exists")
    user = people_rows.create_user(session, organization_id, email, role.value)
    token = people_rows.create_invite(session, user, rules.invite_ttl)
    people_rows.record_audit(
        session,
        organization_id,
        actor=actor,
        action="created",
        target_type="user",
        target_id=user.email,
        detail={"role": user.role},
    )
    return user, token


def accept_invite(database: Database, token: str, password: str) -> User:
    """Set the password the invite is for; the invite is used up, other sessions end."""
    check_strength(password)
    with database.session() as session:
        now = utc_now()
        invite = people_rows.take_invite(session, token, now)
        if invite is None:
            state = people_rows.invite_state(session, token, now)
            message = {
                "used": "this invite was used already; ask an admin for a new one",
                "expired": "this invite has expired; ask an admin for a new one",
            }.get(state, "this invite link is not valid")
            raise InvalidInviteError(message, state)
        user = session.get(User, invite.user_id)
        if user is None or user.disabled_at is not None:
            raise InvalidInviteError("this user is disabled or no longer exists", "no_user")
        user.password_hash = hash_password(password)
        user.failed_sign_ins = 0
        user.locked_until = None
        people_rows.revoke_user_sessions(session, user.id)
        session.flush()
        session.expunge(user)
        return user


def sign_in(database: Database, email: str, password: str, rules: AccountRules) -> SignedIn:
    """A new session for the user, or `InvalidCredentialsError` / `AccountLockedError`.

    The refusal is raised after the transaction commits, so a wrong password is counted."""
    wrong = InvalidCredentialsError("the e-mail address or the password is wrong")
    refusal: AccountError | None = None
    signed: SignedIn | None = None
    with database.session() as session:
        now = utc_now()
        user = people_rows.user_by_email(session, email, for_update=True)
        if user is None or user.password_hash is None or user.disabled_at is not None:
            verify_password(DECOY_HASH, password)
            refusal = wrong
        elif user.locked_until is not None and user.locked_until > now:
            refusal = _locked(user.locked_until, now)
        elif not verify_password(user.password_hash, password):
            user.failed_sign_ins += 1
            refusal = wrong
            if user.failed_sign_ins >= rules.max_failures:
                user.failed_sign_ins = 0
                user.locked_until = now + rules.lockout
                refusal = _locked(user.locked_until, now)
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.failed_sign_ins = 0
            user.locked_until = None
            user.last_sign_in_at = now
            new = people_rows.create_session(session, user, rules.session_ttl)
            signed = SignedIn(
                user.id,
                user.email,
                Role(user.role),
                user.organization_id,
                new.token,
                new.csrf_token,
                new.expires_at,
            )
    if refusal is not None:
        raise refusal
    assert signed is not None
    return signed


def _locked(until: datetime, now: datetime) -> AccountLockedError:
    minutes = max(1, round((until - now).total_seconds() / 60))
    message = f"too many wrong passwords: signing in is locked for {minutes} more minute(s)"
    return AccountLockedError(message, until)


@dataclass(frozen=True, slots=True)
class SessionUser:
    user_id: str
    email: str
    role: Role
    organization_id: str
    session_hash: str
    csrf_hash: str


def session_user(database: Database, token: str, rules: AccountRules) -> SessionUser | None:
    """Who holds this session token, if it is live; its use is recorded."""
    with database.session() as session:
        now = utc_now()
        found = people_rows.live_session(session, token, now, rules.session_idle)
        if found is None:
            return None
        row, user = found
        people_rows.note_session_use(session, row.token_hash, now)
        return _session_user(row, user)


def _session_user(row: UserSession, user: User) -> SessionUser:
    return SessionUser(
        user.id, user.email, Role(user.role), user.organization_id, row.token_hash, row.csrf_hash
    )


def sign_out(database: Database, token: str) -> bool:
    with database.session() as session:
        return people_rows.revoke_session(session, token)
