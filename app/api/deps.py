"""Request dependencies: a database session per request, and who is asking with what right.

A request is made by a machine with an API key (`xi-api-key`, or `Authorization: Bearer vx_…`)
or by a signed-in person (the `velox_session` cookie of the dashboard, or `Authorization: Bearer
vs_…` from the app). Either way it is a `Principal`: an organization, a role and, for a key with
scopes, only those. Each route's permission is looked up in `app/api/permissions.py`; a request
whose principal lacks it gets 403 naming what was missing. A cookie session must also send its
CSRF token (`X-CSRF-Token`) on every request that changes something.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.errors import api_error, too_many_requests
from app.api.permissions import ROUTE_PERMISSIONS
from app.api.refused_at_the_door import RefusedCredentials, credential_of
from app.db import people as people_rows
from app.db.models import Organization, utc_now
from app.db.organizations import LAST_USED_RESOLUTION, authenticate, record_key_use
from app.db.people import SESSION_PREFIX
from app.db.session import Database
from app.limits.rates import RateLimits, rate_limits_for
from app.observability.metrics import AUTH_REFUSALS
from app.people import accounts
from app.people.accounts import AccountRules
from app.people.roles import ROLE_PERMISSIONS, Permission, Role
from app.settings import Settings

SESSION_COOKIE = "velox_session"
CSRF_COOKIE = "velox_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_api_key_header = APIKeyHeader(name="xi-api-key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def account_rules(request: Request) -> AccountRules:
    rules: AccountRules = getattr(request.app.state, "account_rules", AccountRules())
    return rules


def get_session(request: Request) -> Iterator[Session]:
    """A session committed when the route returns and rolled back if it raises."""
    with get_database(request).session() as session:
        yield session


# scope="function" commits before the response is sent, so a client that reads right after a
# write always sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@dataclass(frozen=True, slots=True)
class Principal:
    organization: Organization
    role: Role
    # Who, for the audit log: `user:<email>` or `api_key:<name> (<prefix>…)`.
    actor: str
    user_id: str | None = None
    email: str | None = None
    api_key_name: str | None = None
    # An API key restricted to these permissions; None: everything its role may do.
    scopes: frozenset[Permission] | None = None

    def may(self, permission: Permission) -> bool:
        if permission is Permission.ME:  # anyone may ask who they are
            return True
        if self.scopes is not None:
            return permission in self.scopes
        return permission in ROLE_PERMISSIONS[self.role]


def session_token(request: Request) -> str | None:
    """The session token this request carries (bearer first, then the cookie), if any."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.startswith(SESSION_PREFIX):
        return credentials.strip()
    if request.headers.get("xi-api-key"):
        return None
    return request.cookies.get(SESSION_COOKIE)


def _refuse(code: int, reason: str, message: str) -> Exception:
    AUTH_REFUSALS.labels(reason=reason).inc()
    return api_error(code, reason, message)


def _release(session: Session) -> None:
    """End the request's transaction once who is asking is known, so its connection goes back
    to the pool (the session takes one again if the route uses it; what was read stays read).

    A request otherwise held that connection while it asked for a second: for an API key's
    use, or for a route's own transactions (a leads upload, a field agent's call). With as
    many such requests at once as the pool has connections, each held one and waited for
    another, and all of them stalled until the pool's 30 s timeout.
    """
    session.commit()


def _from_api_key(request: Request, session: Session, plaintext_key: str) -> Principal:
    found = authenticate(session, plaintext_key)
    if found is None:
        raise _refuse(
            status.HTTP_401_UNAUTHORIZED,
            "invalid_api_key",
            "The API key is unknown or revoked; create a new key for your organization.",
        )
    organization, key = found
    _release(session)  # before the key's use takes a connection of its own
    if key.last_used_at is None or utc_now() - key.last_used_at >= LAST_USED_RESOLUTION:
        with get_database(request).session() as own_transaction:
            record_key_use(own_transaction, key.id)
    scopes = None
    if key.scopes is not None:
        known = {p.value for p in Permission}
        scopes = frozenset(Permission(s) for s in key.scopes if s in known)
    return Principal(
        organization,
        Role.ADMIN,
        actor=f"api_key:{key.name} ({key.key_prefix}…)",
        api_key_name=key.name,
        scopes=scopes,
    )


def _from_session(request: Request, session: Session, token: str, *, cookie: bool) -> Principal:
    who = accounts.session_user(get_database(request), token, account_rules(request))
    if who is None:
        raise _refuse(
            status.HTTP_401_UNAUTHORIZED,
            "session_expired",
            "The session has ended (signed out, expired or unknown); sign in again.",
        )
    if cookie and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        sent_hash = hashlib.sha256(sent.encode("utf-8")).hexdigest()
        if not sent or not hmac.compare_digest(sent_hash, who.csrf_hash):
            raise _refuse(
                status.HTTP_403_FORBIDDEN,
                "csrf_failed",
                f"A signed-in browser must send its {CSRF_COOKIE} cookie's value in the "
                f"{CSRF_HEADER} header on requests that change something.",
            )
    organization = session.get(Organization, who.organization_id)
    if organization is None:
        raise _refuse(status.HTTP_401_UNAUTHORIZED, "session_expired", "The organization is gone.")
    return Principal(
        organization, who.role, actor=f"user:{who.email}", user_id=who.user_id, email=who.email
    )


def current_principal(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Who is asking, checked against the route's permission; else 401 or 403 with why."""
    credentials = bearer.credentials if bearer is not None else None
    if api_key:
        principal = _from_api_key(request, session, api_key)
    elif credentials and credentials.startswith(SESSION_PREFIX):
        principal = _from_session(request, session, credentials, cookie=False)
    elif credentials:
        principal = _from_api_key(request, session, credentials)
    elif request.cookies.get(SESSION_COOKIE):
        principal = _from_session(request, session, request.cookies[SESSION_COOKIE], cookie=True)
    else:
        raise _refuse(
            status.HTTP_401_UNAUTHORIZED,
            "invalid_api_key",
            "Sign in, or send an API key in the xi-api-key header or as "
            "'Authorization: Bearer <key>'.",
        )
    _release(session)
    _check_rates(request, principal)
    route = request.scope.get("route")
    needed = ROUTE_PERMISSIONS.get((request.method, getattr(route, "path", "")))
    if needed is None:  # a route missing from the table is closed, not open
        raise _refuse(
            status.HTTP_403_FORBIDDEN, "forbidden", "This route has no permission defined."
        )
    if not principal.may(needed):
        who = f"a {principal.role.value}" if principal.scopes is None else "this API key"
        raise _refuse(
            status.HTTP_403_FORBIDDEN,
            "forbidden",
            f"{who} may not do this (it needs the {needed.value} permission)",
        )
    return principal


def _rates(request: Request, settings: Settings) -> RateLimits:
    """The service's rates (the voice runtime's, set by the app factory), else made once from
    the settings for an app of the API alone."""
    rates: RateLimits | None = getattr(request.app.state, "rates", None)
    if rates is None:
        rates = request.app.state.rates = rate_limits_for(settings)
    return rates


def refused_credentials(app: FastAPI) -> RefusedCredentials:
    """The credentials this process refused for their rate (made once per app)."""
    refused: RefusedCredentials | None = getattr(app.state, "refused_credentials", None)
    if refused is None:
        refused = app.state.refused_credentials = RefusedCredentials()
    return refused


def _check_rates(request: Request, principal: Principal) -> None:
    """429 when the organization, or this API key (or person), is over its rate."""
    settings: Settings = request.app.state.settings
    if not settings.rate_limits_enabled:
        return
    rates = _rates(request, settings)
    organization_id = principal.organization.id
    for kind, key in (
        ("api_key", f"{organization_id}:{principal.actor}"),
        ("organization", organization_id),
    ):
        refusal = rates.hit(kind, key)
        if refusal is not None:
            credential = credential_of(request.headers.raw)
            if credential is not None:  # its next requests are refused at the door
                refused_credentials(request.app).remember(credential, refusal)
            raise too_many_requests(refusal)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_organization(principal: PrincipalDep) -> Organization:
    """The organization of whoever is asking, once their permission for the route is checked."""
    return principal.organization


OrganizationDep = Annotated[Organization, Depends(current_organization)]


def audit(
    session: Session,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: str,
    **detail: object,
) -> None:
    """Note in the audit log that `principal` `action` (created, changed, deleted) a thing, in
    the request's transaction: a change that rolls back leaves no entry."""
    people_rows.record_audit(
        session,
        principal.organization.id,
        actor=principal.actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=dict(detail),
    )
