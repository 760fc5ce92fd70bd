"""Signed-in people as tests make them: invited, password set through the API, signed in."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.db.session import Database
from app.people import accounts
from app.people.roles import Role
from tests.tenants import Tenant

PASSWORD = "correct horse battery"


def invite(database: Database, tenant: Tenant, email: str, role: Role) -> str:
    with database.session() as session:
        _, token = accounts.invite_user(
            session, tenant.organization_id, email, role, accounts.AccountRules(), actor="test"
        )
    return token


def user_token(
    client: TestClient, database: Database, tenant: Tenant, role: Role, email: str | None = None
) -> str:
    """A bearer token of a signed-in user of `role` (the address made from the role unless
    given); the client keeps no cookie, so requests carry only what the test sends."""
    email = email or f"{role.value}@{tenant.organization_id}.example"
    token = invite(database, tenant, email, role)
    accepted = client.post("/v1/auth/invite/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    signed = client.post("/v1/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    client.cookies.clear()
    session_token: str = signed.json()["token"]
    return session_token
