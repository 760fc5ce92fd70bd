"""`/v1/users`: the people of an organization and their roles (admins only), and `/v1/audit`.

There is no mail server: creating a user (or asking for a new invite, when a password is
forgotten) answers with a one-time invite URL that the admin hands over.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.api.deps import PrincipalDep, SessionDep, account_rules, audit
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.api.times import unix, unix_or_none
from app.db import people as people_rows
from app.db.agents import get_agent
from app.db.models import AuditEntry, User, utc_now
from app.people import accounts
from app.people.roles import Role

router = APIRouter(tags=["users"])

RoleName = Literal["admin", "manager", "support", "field_agent"]


class UserCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: RoleName


class UserPatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName | None = None
    disabled: StrictBool | None = None
    # The agents a field agent may talk to; null: every agent of the organization.
    agent_ids: list[str] | None = Field(default=None, max_length=1000)


class UserResponse(BaseModel):
    user_id: str
    email: str
    role: str
    # invited (no password yet), active, locked (too many wrong passwords), disabled
    status: str
    created_at_unix_secs: int
    last_sign_in_unix_secs: int | None
    # The agents a field agent may talk to; null: every agent of the organization.
    agent_ids: list[str] | None


class InvitedUserResponse(UserResponse):
    invite_url: str


class InviteResponse(BaseModel):
    invite_url: str


class UsersPage(BaseModel):
    users: list[UserResponse]


class AuditEntryResponse(BaseModel):
    seq: int
    at_unix_secs: int
    actor: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, object]


class AuditPage(BaseModel):
    entries: list[AuditEntryResponse]
    # Pass as `before` for the next (older) page; None when this was the last.
    next_before: int | None


def invite_url(request: Request, token: str) -> str:
    return f"{request.app.state.settings.resolved_public_url()}/invite?token={token}"


def _status(user: User) -> str:
    if user.disabled_at is not None:
        return "disabled"
    if user.password_hash is None:
        return "invited"
    if user.locked_until is not None and user.locked_until > utc_now():
        return "locked"
    return "active"


def _view(user: User) -> UserResponse:
    return UserResponse(
        user_id=user.id,
        email=user.email,
        role=user.role,
        status=_status(user),
        created_at_unix_secs=unix(user.created_at),
        last_sign_in_unix_secs=unix_or_none(user.last_sign_in_at),
        agent_ids=user.agent_ids,
    )


def _user(session: SessionDep, organization_id: str, user_id: str) -> User:
    user = people_rows.get_user(session, organization_id, user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def _keep_an_admin(session: SessionDep, user: User, principal: PrincipalDep) -> None:
    """Refuse a change that would leave the organization without an active admin user, or
    that an admin makes to their own account (another admin must do it)."""
    if principal.user_id == user.id:
        raise api_error(
            status.HTTP_409_CONFLICT,
            "own_account",
            "you cannot demote, disable or delete your own account; ask another admin",
        )
    admins = [
        u
        for u in people_rows.list_users(session, user.organization_id)
        if u.role == Role.ADMIN.value and u.disabled_at is None and u.id != user.id
    ]
    if user.role == Role.ADMIN.value and user.disabled_at is None and not admins:
        raise api_error(
            status.HTTP_409_CONFLICT,
            "last_admin",
            "this is the organization's last active admin; make another admin first",
        )


@router.get("/v1/users")
def list_users(session: SessionDep, principal: PrincipalDep) -> UsersPage:
    return UsersPage(
        users=[_view(u) for u in people_rows.list_users(session, principal.organization.id)]
    )


@router.post("/v1/users", status_code=status.HTTP_201_CREATED, responses=error_responses(409))
def create_user(
    body: UserCreateRequest, request: Request, session: SessionDep, principal: PrincipalDep
) -> InvitedUserResponse:
    """Invite a person: they choose their password through the invite URL (valid 7 days)."""
    try:
        user, token = accounts.invite_user(
            session,
            principal.organization.id,
            body.email,
            Role(body.role),
            account_rules(request),
            actor=principal.actor,
        )
    except accounts.EmailTakenError as error:
        raise api_error(status.HTTP_409_CONFLICT, error.reason, str(error)) from None
    return InvitedUserResponse(**_view(user).model_dump(), invite_url=invite_url(request, token))


@router.patch("/v1/users/{user_id}", responses=error_responses(404, 409, 422))
def update_user(
    user_id: str, body: UserPatchRequest, session: SessionDep, principal: PrincipalDep
) -> UserResponse:
    """Change a user's role, disable (or enable) them (a disabled user's sessions end), or
    choose the agents a field agent may talk to (`agent_ids`; null: all of them)."""
    user = _user(session, principal.organization.id, user_id)
    changes: dict[str, object] = {}
    demoting = body.role is not None and body.role != user.role
    disabling = body.disabled is True and user.disabled_at is None
    if demoting or disabling:
        _keep_an_admin(session, user, principal)
    if body.role is not None and body.role != user.role:
        changes["role"] = {"from": user.role, "to": body.role}
        user.role = body.role
    if body.disabled is not None and body.disabled != (user.disabled_at is not None):
        changes["disabled"] = body.disabled
        user.disabled_at = utc_now() if body.disabled else None
        if body.disabled:
            people_rows.revoke_user_sessions(session, user.id)
    if "agent_ids" in body.model_fields_set and body.agent_ids != user.agent_ids:
        chosen = None if body.agent_ids is None else list(dict.fromkeys(body.agent_ids))
        for agent_id in chosen or ():
            if get_agent(session, user.organization_id, agent_id) is None:
                raise api_error(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    "unknown_agent",
                    f"no agent {agent_id!r} in this organization",
                )
        changes["agent_ids"] = chosen
        user.agent_ids = chosen
    if changes:
        audit(session, principal, "changed", "user", user.email, **changes)
    session.flush()
    return _view(user)


@router.delete(
    "/v1/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404, 409),
)
def delete_user(user_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    user = _user(session, principal.organization.id, user_id)
    _keep_an_admin(session, user, principal)
    audit(session, principal, "deleted", "user", user.email)
    people_rows.delete_user(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/v1/users/{user_id}/invite", responses=error_responses(404))
def reinvite_user(
    user_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> InviteResponse:
    """A new invite URL (a forgotten password): earlier invites stop working."""
    user = _user(session, principal.organization.id, user_id)
    token = people_rows.create_invite(session, user, account_rules(request).invite_ttl)
    audit(session, principal, "changed", "user", user.email, invited=True)
    return InviteResponse(invite_url=invite_url(request, token))


def _entry(entry: AuditEntry) -> AuditEntryResponse:
    return AuditEntryResponse(
        seq=entry.seq,
        at_unix_secs=unix(entry.at),
        actor=entry.actor,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        detail=entry.detail,
    )


@router.get("/v1/audit")
def audit_log(
    session: SessionDep,
    principal: PrincipalDep,
    limit: int = Query(default=100, ge=1, le=500),
    before: int | None = Query(default=None, ge=1),
    action: Literal["created", "changed", "deleted"] | None = None,
    target_type: str | None = Query(
        default=None, pattern=r"^[a-z_]{1,40}$", description="agent, user, api_key, webhook…"
    ),
    actor: str | None = Query(
        default=None, max_length=200, description="part of the actor, e.g. an e-mail address"
    ),
) -> AuditPage:
    """Who created, changed or deleted what, newest first; narrowed by action, kind of target
    and actor when asked."""
    entries = people_rows.list_audit(
        session,
        principal.organization.id,
        limit + 1,
        before,
        action=action,
        target_type=target_type,
        actor=actor,
    )
    page = entries[:limit]
    return AuditPage(
        entries=[_entry(e) for e in page],
        next_before=page[-1].seq if len(entries) > limit and page else None,
    )
