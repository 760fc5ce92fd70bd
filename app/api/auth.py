"""Signing in and out, accepting an invite, and who is asking (`/v1/auth/…`, `/v1/me`).

A browser gets its session as cookies: `velox_session` (HttpOnly, SameSite=Lax, Secure when
the public URL is https) and `velox_csrf`, which the dashboard's script reads and sends back as
the `X-CSRF-Token` header on every request that changes something. The mobile app uses the
`token` of the sign-in answer as `Authorization: Bearer <token>` (no cookie, no CSRF).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    PrincipalDep,
    account_rules,
    get_database,
    session_token,
)
from app.api.errors import api_error
from app.api.openapi import error_responses
from app.api.times import unix
from app.db.models import utc_now
from app.observability.metrics import AUTH_REFUSALS
from app.people import accounts
from app.people.passwords import MAX_LENGTH, WeakPasswordError
from app.people.roles import ROLE_PERMISSIONS

router = APIRouter(tags=["users"])


class InviteAcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class UserView(BaseModel):
    email: str
    role: str


class SignInResponse(BaseModel):
    token: str
    csrf_token: str
    expires_at_unix_secs: int
    user: UserView


class MeResponse(BaseModel):
    organization_id: str
    organization_name: str
    role: str
    permissions: list[str]
    # A signed-in person has an e-mail address; a machine's API key has a name.
    email: str | None = None
    api_key_name: str | None = None


@router.post("/v1/auth/invite/accept", responses=error_responses(400, 410, 422))
def accept_invite(body: InviteAcceptRequest, request: Request) -> UserView:
    """Set the password an invite link is for (the link's `token`); then sign in."""
    try:
        user = accounts.accept_invite(get_database(request), body.token, body.password)
    except WeakPasswordError as error:
        AUTH_REFUSALS.labels(reason="weak_password").inc()
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "weak_password", str(error)
        ) from None
    except accounts.InvalidInviteError as error:
        AUTH_REFUSALS.labels(reason=error.reason).inc()
        gone = error.state in ("used", "expired")
        code = status.HTTP_410_GONE if gone else status.HTTP_400_BAD_REQUEST
        raise api_error(code, error.reason, str(error)) from None
    return UserView(email=user.email, role=user.role)


@router.post("/v1/auth/sign-in", responses=error_responses(401, 429))
def sign_in(body: SignInRequest, request: Request, response: Response) -> SignInResponse:
    try:
        signed = accounts.sign_in(
            get_database(request), body.email, body.password, account_rules(request)
        )
    except accounts.AccountLockedError as locked:
        AUTH_REFUSALS.labels(reason=locked.reason).inc()
        error = api_error(status.HTTP_429_TOO_MANY_REQUESTS, locked.reason, str(locked))
        retry = max(1, int((locked.until - utc_now()).total_seconds()))
        error.headers = {"Retry-After": str(retry)}
        raise error from None
    except accounts.InvalidCredentialsError as wrong:
        AUTH_REFUSALS.labels(reason=wrong.reason).inc()
        raise api_error(status.HTTP_401_UNAUTHORIZED, wrong.reason, str(wrong)) from None
    secure = request.app.state.settings.resolved_public_url().startswith("https://")
    max_age = int(account_rules(request).session_ttl.total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, signed.csrf_token, max_age=max_age, secure=secure, samesite="lax", path="/"
    )
    return SignInResponse(
        token=signed.token,
        csrf_token=signed.csrf_token,
        expires_at_unix_secs=unix(signed.expires_at),
        user=UserView(email=signed.email, role=signed.role.value),
    )


@router.post(
    "/v1/auth/sign-out", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(400)
)
def sign_out(request: Request, principal: PrincipalDep) -> Response:
    """End the session this request was made with (its cookie or its bearer token)."""
    token = session_token(request)
    if principal.user_id is None or token is None:
        raise api_error(
            status.HTTP_400_BAD_REQUEST,
            "not_a_session",
            "this request was made with an API key, not a signed-in session; revoke keys instead",
        )
    accounts.sign_out(get_database(request), token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/v1/me")
def me(principal: PrincipalDep) -> MeResponse:
    permissions = principal.scopes or ROLE_PERMISSIONS[principal.role]
    return MeResponse(
        organization_id=principal.organization.id,
        organization_name=principal.organization.name,
        role=principal.role.value,
        permissions=sorted(p.value for p in permissions),
        email=principal.email,
        api_key_name=principal.api_key_name,
    )
