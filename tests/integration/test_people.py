"""Users, roles and sign-in: each role reaches what it may and gets 403 elsewhere; invites,
passwords, lock-out, sessions, CSRF, API key scopes, and the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.api.permissions import ROUTE_PERMISSIONS
from app.api.routers import REST_ROUTERS, VOICE_ROUTERS
from app.db import organizations as org_queries
from app.db.models import ApiKey, UserInvite, UserSession, utc_now
from app.db.session import Database
from app.people.roles import Role
from tests.api_app import build_api_app
from tests.people import PASSWORD, invite, user_token
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

# --- the role matrix ----------------------------------------------------------------------------
# Written from the roles' definitions, not from the app's table, so the two are checked against
# each other: a manager runs agents, numbers, campaigns (leads, do-not-call, batches), webhooks
# and places calls; support reads agents, numbers, campaigns and calls; a field agent opens
# conversations with the agents it may use and works its own leads and call backs; only admins
# touch provider keys, API keys, users and the audit log.


def allowed_roles(method: str, path: str) -> set[Role]:
    everyone = set(Role)
    if path in ("/v1/me", "/v1/auth/sign-out"):
        return everyone
    if path.startswith(("/v1/provider-keys", "/v1/api-keys", "/v1/users", "/v1/audit")):
        return {Role.ADMIN}
    if path in ("/v1/convai/conversation/get-signed-url", "/v1/me/agents"):
        return {Role.ADMIN, Role.MANAGER, Role.FIELD_AGENT}
    if path.startswith(("/v1/me/leads", "/v1/me/callbacks", "/v1/me/push")):
        return {Role.ADMIN, Role.FIELD_AGENT}
    if path.startswith("/v1/convai/conversations/") and path.endswith("/feedback"):
        return {Role.ADMIN, Role.MANAGER, Role.SUPPORT}
    if path == "/v1/calls/live/{conversation_id}/end":
        return {Role.ADMIN, Role.MANAGER, Role.SUPPORT}
    if method == "DELETE" and path.startswith("/v1/convai/conversations/"):
        return {Role.ADMIN}
    if path == "/v1/convai/twilio/outbound-call":
        return {Role.ADMIN, Role.MANAGER}
    if path.startswith("/v1/workspace/webhooks"):
        return {Role.ADMIN, Role.MANAGER}
    if method == "GET":
        return {Role.ADMIN, Role.MANAGER, Role.SUPPORT}
    return {Role.ADMIN, Role.MANAGER}


def api_routes() -> list[tuple[str, str]]:
    routes = []
    for router in (*REST_ROUTERS, *VOICE_ROUTERS):
        for route in router.routes:
            assert isinstance(route, APIRoute)
            routes += [(method, route.path) for method in sorted(route.methods)]
    return routes


PUBLIC = {("POST", "/v1/auth/sign-in"), ("POST", "/v1/auth/invite/accept")}


def test_every_api_route_names_its_permission() -> None:
    routes = set(api_routes()) - PUBLIC
    assert routes == set(ROUTE_PERMISSIONS)


def test_each_role_reaches_what_it_may_and_gets_403_elsewhere(
    database: Database, tenant_a: Tenant
) -> None:
    app = build_api_app(database)
    for router in VOICE_ROUTERS:  # refused or invalid before they would need the voice runtime
        app.include_router(router)
    # A permitted route may fail for want of the voice runtime: that is not a 401 or a 403.
    client = TestClient(app, raise_server_exceptions=False)
    tokens = {role: user_token(client, database, tenant_a, role) for role in Role}
    checked = 0
    for method, path in sorted(set(api_routes()) - PUBLIC):
        if path == "/v1/auth/sign-out":
            continue  # it would end the session the rest of the matrix uses; tested below
        url = re.sub(r"\{[a-z_]+\}", "missing", path)
        if path == "/v1/convai/conversation/get-signed-url":
            url += "?agent_id=missing"
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            if method in ("POST", "PATCH", "PUT"):
                response = client.request(method, url, json={}, headers=headers)
            else:
                response = client.request(method, url, headers=headers)
            if role in allowed_roles(method, path):
                assert response.status_code not in (401, 403), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert response.json()["detail"]["status"] == "forbidden"
            checked += 1
    assert checked == (len(set(api_routes()) - PUBLIC) - 1) * len(Role)


def test_every_role_can_sign_out(client: TestClient, database: Database, tenant_a: Tenant) -> None:
    for role in Role:
        headers = {"Authorization": f"Bearer {user_token(client, database, tenant_a, role)}"}
        assert client.get("/v1/me", headers=headers).json()["role"] == role.value
        assert client.post("/v1/auth/sign-out", headers=headers).status_code == 204
        after = client.get("/v1/me", headers=headers)
        assert after.status_code == 401
        assert after.json()["detail"]["status"] == "session_expired"


# --- invites and passwords ----------------------------------------------------------------------


def test_an_invite_works_once_and_a_weak_password_is_refused_with_why(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    token = invite(database, tenant_a, "Ann@Example.com", Role.SUPPORT)

    weak = client.post("/v1/auth/invite/accept", json={"token": token, "password": "short"})
    assert weak.status_code == 422
    assert weak.json()["detail"]["status"] == "weak_password"
    ok = client.post("/v1/auth/invite/accept", json={"token": token, "password": PASSWORD})
    assert ok.json() == {"email": "ann@example.com", "role": "support"}
    again = client.post("/v1/auth/invite/accept", json={"token": token, "password": PASSWORD})
    assert again.status_code == 410
    assert "used already" in again.json()["detail"]["message"]
    forged = client.post(
        "/v1/auth/invite/accept", json={"token": "vi_" + "0" * 64, "password": PASSWORD}
    )
    assert forged.status_code == 400


def test_an_expired_invite_is_refused(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    token = invite(database, tenant_a, "late@example.com", Role.MANAGER)
    with database.session() as session:
        session.execute(update(UserInvite).values(expires_at=utc_now() - timedelta(seconds=1)))

    response = client.post("/v1/auth/invite/accept", json={"token": token, "password": PASSWORD})

    assert response.status_code == 410
    assert "expired" in response.json()["detail"]["message"]


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    user_token(client, database, tenant_a, Role.SUPPORT)
    email = f"support@{tenant_a.organization_id}.example"

    wrong = client.post("/v1/auth/sign-in", json={"email": email, "password": "not it at all"})
    unknown = client.post(
        "/v1/auth/sign-in", json={"email": "nobody@example.com", "password": PASSWORD}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    user_token(client, database, tenant_a, Role.MANAGER)
    email = f"manager@{tenant_a.organization_id}.example"
    answers = [
        client.post("/v1/auth/sign-in", json={"email": email, "password": f"wrong guess {n}"})
        for n in range(5)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]

    right = client.post("/v1/auth/sign-in", json={"email": email, "password": PASSWORD})

    assert right.status_code == 429
    assert right.json()["detail"]["status"] == "account_locked"
    assert 0 < int(right.headers["retry-after"]) <= 15 * 60


def test_an_idle_session_ends(client: TestClient, database: Database, tenant_a: Tenant) -> None:
    headers = {"Authorization": f"Bearer {user_token(client, database, tenant_a, Role.SUPPORT)}"}
    assert client.get("/v1/me", headers=headers).status_code == 200
    with database.session() as session:
        session.execute(update(UserSession).values(last_seen_at=utc_now() - timedelta(hours=13)))

    response = client.get("/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.json()["detail"]["status"] == "session_expired"


def test_a_disabled_user_is_signed_out_at_once(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    headers = {"Authorization": f"Bearer {user_token(client, database, tenant_a, Role.SUPPORT)}"}
    users = client.get("/v1/users", headers=tenant_a.headers).json()["users"]
    [support] = [u for u in users if u["role"] == "support"]

    changed = client.patch(
        f"/v1/users/{support['user_id']}", json={"disabled": True}, headers=tenant_a.headers
    )

    assert changed.json()["status"] == "disabled"
    assert client.get("/v1/me", headers=headers).status_code == 401


# --- the dashboard's cookie and CSRF ------------------------------------------------------------


def test_a_cookie_session_reads_freely_but_changes_only_with_its_csrf_token(
    database: Database, tenant_a: Tenant
) -> None:
    # The public URL is https, so the cookies are Secure: a browser sends them over https only.
    client = TestClient(build_api_app(database), base_url="https://testserver")
    invite_token = invite(database, tenant_a, "lead@example.com", Role.MANAGER)
    client.post("/v1/auth/invite/accept", json={"token": invite_token, "password": PASSWORD})
    signed = client.post(
        "/v1/auth/sign-in", json={"email": "lead@example.com", "password": PASSWORD}
    )
    cookie = signed.headers["set-cookie"]
    assert "velox_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" in cookie
    body = {"name": "Desk", "conversation_config": {"agent": {"first_message": "Hi"}}}

    assert client.get("/v1/me").json()["email"] == "lead@example.com"
    refused = client.post("/v1/convai/agents/create", json=body)
    assert refused.status_code == 403
    assert refused.json()["detail"]["status"] == "csrf_failed"
    wrong = client.post("/v1/convai/agents/create", json=body, headers={"X-CSRF-Token": "x" * 64})
    assert wrong.status_code == 403
    csrf = client.cookies["velox_csrf"]
    made = client.post("/v1/convai/agents/create", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 200, made.text


def test_a_forged_session_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set("velox_session", "vs_" + "1" * 64)

    response = client.get("/v1/me")

    assert response.status_code == 401
    assert response.json()["detail"]["status"] == "session_expired"


# --- API keys and the audit log ---------------------------------------------------------------


def test_an_api_key_with_scopes_may_do_only_what_they_name(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    with database.session() as session:
        _, key = org_queries.create_api_key(
            session, tenant_a.organization_id, "reports", scopes=["calls:read"]
        )
    headers = {"xi-api-key": key}

    assert client.get("/v1/convai/conversations", headers=headers).status_code == 200
    refused = client.get("/v1/convai/agents", headers=headers)
    assert refused.status_code == 403
    assert "agents:read" in refused.json()["detail"]["message"]
    assert client.get("/v1/me", headers=headers).json()["permissions"] == ["calls:read"]


def test_the_audit_log_says_who_changed_what_and_only_admins_read_it(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    manager = {"Authorization": f"Bearer {user_token(client, database, tenant_a, Role.MANAGER)}"}
    body = {"name": "Desk", "conversation_config": {"agent": {"first_message": "Hi"}}}
    agent_id = client.post("/v1/convai/agents/create", json=body, headers=manager).json()[
        "agent_id"
    ]
    client.patch(f"/v1/convai/agents/{agent_id}", json={"name": "Front"}, headers=manager)
    client.delete(f"/v1/convai/agents/{agent_id}", headers=tenant_a.headers)

    assert client.get("/v1/audit", headers=manager).status_code == 403
    entries = client.get("/v1/audit", headers=tenant_a.headers).json()["entries"]
    about_agent = [(e["action"], e["actor"]) for e in entries if e["target_id"] == agent_id]
    manager_actor = f"user:manager@{tenant_a.organization_id}.example"
    with database.session() as session:
        prefix = session.query(ApiKey).filter_by(organization_id=tenant_a.organization_id)
        key_prefix = prefix.first().key_prefix  # type: ignore[union-attr]
    assert about_agent == [
        ("deleted", f"api_key:default ({key_prefix}…)"),
        ("changed", manager_actor),
        ("created", manager_actor),
    ]
    assert any(e["target_type"] == "user" and e["action"] == "created" for e in entries)


def test_an_admin_cannot_remove_the_last_admin_or_themselves(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    admin = {"Authorization": f"Bearer {user_token(client, database, tenant_a, Role.ADMIN)}"}
    users = client.get("/v1/users", headers=admin).json()["users"]
    [me] = [u for u in users if u["role"] == "admin"]

    own = client.delete(f"/v1/users/{me['user_id']}", headers=admin)
    assert own.status_code == 409
    last = client.patch(
        f"/v1/users/{me['user_id']}", json={"role": "support"}, headers=tenant_a.headers
    )
    assert last.status_code == 409
    assert last.json()["detail"]["status"] == "last_admin"


def test_users_of_one_organization_are_invisible_to_another(
    client: TestClient, database: Database, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user_token(client, database, tenant_a, Role.SUPPORT)

    assert client.get("/v1/users", headers=tenant_b.headers).json()["users"] == []
    user_id = client.get("/v1/users", headers=tenant_a.headers).json()["users"][0]["user_id"]
    assert client.delete(f"/v1/users/{user_id}", headers=tenant_b.headers).status_code == 404
