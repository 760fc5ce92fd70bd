"""A call back that falls due is pushed to its owner's devices, once, through a push service
double that checks the VAPID signature and decrypts the message as a browser would; a device
its push service says is gone is forgotten. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import field_leads as field_lead_rows
from app.db.models import CampaignLead, PushSubscription, utc_now
from app.db.session import Database
from app.outbound.callback_alerts import send_due_callback_alerts
from app.people.roles import Role
from app.settings import Settings
from tests.campaign_setup import campaign_with_a_number
from tests.fakes.cloud.webpush import push_service_double
from tests.people import user_token
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

ANA = "ana@acme.example"


def push_settings(client: TestClient) -> Settings:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    settings = settings.model_copy(
        update={
            "push_allow_http": True,  # the double is a plain-http server on 127.0.0.1
            "vapid_secret": "7f" * 32,
            "vapid_subject": "mailto:ops@acme.example",
        }
    )
    client.app.state.settings = settings  # type: ignore[attr-defined]
    return settings


def owned_leads(client: TestClient, tenant: Tenant) -> list[str]:
    campaign_id, _ = campaign_with_a_number(client, tenant)
    uploaded = client.post(
        f"/v1/campaigns/{campaign_id}/leads",
        content=f"phone_number,name,owner_email\n+12122345601,Maria,{ANA}\n+12122345602,,{ANA}\n",
        headers={**tenant.headers, "content-type": "text/csv"},
    )
    assert uploaded.json()["imported"] == 2
    return [
        lead["lead_id"]
        for lead in client.get(f"/v1/campaigns/{campaign_id}/leads", headers=tenant.headers).json()[
            "leads"
        ]
    ]


def call_back(database: Database, lead_id: str, due_in: timedelta, note: str = "") -> None:
    with database.session() as session:
        lead = session.scalars(select(CampaignLead).where(CampaignLead.id == lead_id)).one()
        field_lead_rows.add_callback(session, lead, utc_now() + due_in, source="call", note=note)


def test_a_due_call_back_is_pushed_once_to_each_of_its_owners_devices(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    settings = push_settings(client)
    ana = {
        "Authorization": f"Bearer {user_token(client, database, tenant_a, Role.FIELD_AGENT, ANA)}"
    }
    key = client.get("/v1/me/push", headers=ana).json()["vapid_public_key"]
    maria, other = owned_leads(client, tenant_a)
    with push_service_double() as push:
        phone, tablet = push.subscribe(), push.subscribe()
        for device in (phone, tablet):
            saved = client.post("/v1/me/push-subscriptions", json=device, headers=ana)
            assert saved.status_code == 201, saved.text
        call_back(database, maria, -timedelta(minutes=1), note="Ring about the quote.")
        call_back(database, other, timedelta(hours=2))

        run = send_due_callback_alerts(database, settings, utc_now())
        assert (run.callbacks, run.sent, run.failed) == (1, 2, 0)
        assert push.refused == []
        assert sorted(d.subscription for d in push.delivered) == sorted(
            d["endpoint"].rsplit("/", 1)[1] for d in (phone, tablet)
        )
        message = push.delivered[0]
        assert message.signer_key == key  # signed with the key the app subscribed with
        assert message.claims["sub"] == "mailto:ops@acme.example"
        assert message.ttl == 3600
        payload = json.loads(message.payload)
        assert (payload["type"], payload["lead_id"]) == ("callback_due", maria)
        assert (payload["title"], payload["body"]) == ("Call back Maria", "Ring about the quote.")

        again = send_due_callback_alerts(database, settings, utc_now())
        assert (again.callbacks, len(push.delivered)) == (0, 2)  # told once

        push.forget(tablet["endpoint"])
        later = send_due_callback_alerts(database, settings, utc_now() + timedelta(hours=3))
        assert (later.callbacks, later.sent, later.subscriptions_removed) == (1, 1, 1)
        assert json.loads(push.delivered[-1].payload)["body"] == "Due now: +12122345602"
    with database.session() as session:
        endpoints = list(session.scalars(select(PushSubscription.endpoint)))
    assert endpoints == [phone["endpoint"]]


def test_a_subscription_must_be_a_real_push_endpoint_with_real_keys(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    ana = {
        "Authorization": f"Bearer {user_token(client, database, tenant_a, Role.FIELD_AGENT, ANA)}"
    }
    with push_service_double() as push:
        device = push.subscribe()
    plain_http = client.post("/v1/me/push-subscriptions", json=device, headers=ana)
    assert (plain_http.status_code, plain_http.json()["detail"]["status"]) == (
        422,
        "invalid_endpoint",
    )
    secure = {**device, "endpoint": device["endpoint"].replace("http://", "https://")}
    bad_key = {**secure, "keys": {**device["keys"], "p256dh": "AAAA"}}
    assert client.post("/v1/me/push-subscriptions", json=bad_key, headers=ana).status_code == 422
    assert client.post("/v1/me/push-subscriptions", json=secure, headers=ana).status_code == 201
    gone = client.delete(
        "/v1/me/push-subscriptions", params={"endpoint": secure["endpoint"]}, headers=ana
    )
    assert gone.status_code == 204
    again = client.delete(
        "/v1/me/push-subscriptions", params={"endpoint": secure["endpoint"]}, headers=ana
    )
    assert again.status_code == 404
