"""Campaign calls over SIP trunks, as the database and the API see them: a queued dial is taken
by exactly one node, a dial no node took in time is failed, and campaigns and batch calls take
SIP-trunk numbers that have an outbound trunk."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import calls as call_queries
from app.db import phone_numbers as number_queries
from app.db import sip_dials
from app.db.models import Call, utc_now
from app.db.session import Database
from app.outbound.campaign_settings import DAY_NAMES
from app.people.roles import Role
from app.settings import Settings
from telephony.sip.dial_queue import EXPIRED, QUEUED_DIAL_EXPIRY, call_id_for
from tests.integration.test_api_access import create_agent
from tests.people import user_token
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def _queue(database: Database, tenant: Tenant, count: int) -> list[str]:
    with database.session() as session:
        agent = agent_queries.create_agent(session, tenant.organization_id, AgentConfig(name="R"))
        number = number_queries.create_phone_number(
            session,
            tenant.organization_id,
            phone_number=f"+1212555{count:04d}",
            label="trunk",
            provider="sip_trunk",
            agent_id=agent.id,
        )
        ids = []
        for n in range(count):
            call = call_queries.create_call(
                session,
                tenant.organization_id,
                agent_id=agent.id,
                direction="outbound",
                channel="sip",
                to_number=f"+1212200{n:04d}",
                phone_number_id=number.id,
            )
            ids.append(call.id)
        session.flush()
        for n, call_id in enumerate(ids):
            assert sip_dials.queue_dial(session, tenant.organization_id, call_id, f"cid{n}@h")
        # Queued once only: a repeated dial task finds it queued already.
        assert not sip_dials.queue_dial(session, tenant.organization_id, ids[0], "again@h")
    return ids


def test_each_queued_dial_is_taken_by_one_node_only(database: Database, tenant_a: Tenant) -> None:
    ids = _queue(database, tenant_a, 20)
    taken: list[list[str]] = [[], []]
    since = utc_now() - QUEUED_DIAL_EXPIRY

    def node(index: int) -> None:
        for _ in range(10):
            with database.session() as session:
                taken[index] += [d.sip_call_id for d in sip_dials.take_queued(session, since, 3)]

    nodes = [threading.Thread(target=node, args=(i,)) for i in range(2)]
    for thread in nodes:
        thread.start()
    for thread in nodes:
        thread.join(timeout=30)
    assert sorted(taken[0] + taken[1]) == sorted(f"cid{n}@h" for n in range(20))
    with database.session() as session:
        statuses = set(session.scalars(select(Call.provider_status).where(Call.id.in_(ids))))
    assert statuses == {"initiated"}


def test_a_dial_no_node_took_in_time_is_failed_and_never_placed(
    database: Database, tenant_a: Tenant
) -> None:
    stale, fresh = _queue(database, tenant_a, 2)
    with database.session() as session:
        session.execute(
            update(Call)
            .where(Call.id == stale)
            .values(created_at=utc_now() - QUEUED_DIAL_EXPIRY - timedelta(seconds=1))
        )
    cutoff = utc_now() - QUEUED_DIAL_EXPIRY
    with database.session() as session:
        assert [d.conversation_id for d in sip_dials.take_queued(session, cutoff, 10)] == [fresh]
    with database.session() as session:
        assert sip_dials.expire_queued(session, cutoff, EXPIRED) == 1
        assert sip_dials.expire_queued(session, cutoff, EXPIRED) == 0
    with database.session() as session:
        call = session.scalars(select(Call).where(Call.id == stale)).one()
        assert (call.status, call.provider_status) == ("failed", "failed")
        assert call.termination_reason == EXPIRED


def test_a_queued_call_id_names_the_sip_host_when_it_is_one() -> None:
    assert call_id_for(Settings(sip_host="0.0.0.0")).count("@") == 0
    assert call_id_for(Settings(sip_public_host="sip.example.com")).endswith("@sip.example.com")


def _sip_number(client: TestClient, tenant: Tenant, agent_id: str, **body: object) -> str:
    created = client.post(
        "/v1/convai/phone-numbers",
        json={
            "phone_number": "+12125550100",
            "provider": "sip_trunk",
            "agent_id": agent_id,
            **body,
        },
        headers=tenant.headers,
    )
    assert created.status_code == 200, created.text
    return str(created.json()["phone_number_id"])


def submit_batch(client: TestClient, tenant: Tenant, agent_id: str, number_id: str) -> Response:
    """A batch call of one recipient from the number `number_id`."""
    return client.post(
        "/v1/convai/batch-calling/submit",
        json={
            "call_name": "Trunk batch",
            "agent_id": agent_id,
            "agent_phone_number_id": number_id,
            "recipients": [{"phone_number": "+12122000101"}],
        },
        headers=tenant.headers,
    )


def test_campaigns_and_batch_calls_take_sip_trunk_numbers_with_an_outbound_trunk(
    client: TestClient, tenant_a: Tenant
) -> None:
    agent_id = create_agent(client, tenant_a)
    bare = _sip_number(client, tenant_a, agent_id)
    campaign = {"name": "Trunk", "agent_id": agent_id, "agent_phone_number_id": bare}
    refused = client.post("/v1/campaigns", json=campaign, headers=tenant_a.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["status"] == "no_outbound_trunk"

    client.patch(
        f"/v1/convai/phone-numbers/{bare}",
        json={"outbound_trunk_config": {"address": "trunk.example.com:5060"}},
        headers=tenant_a.headers,
    ).raise_for_status()
    accepted = client.post("/v1/campaigns", json=campaign, headers=tenant_a.headers)
    assert accepted.status_code == 201, accepted.text

    batch = submit_batch(client, tenant_a, agent_id, bare)
    assert batch.status_code == 200, batch.text
    assert batch.json()["phone_provider"] == "sip_trunk"


def test_a_caller_id_the_dialer_could_never_use_is_refused_when_the_campaign_is_made(
    client: TestClient, tenant_a: Tenant
) -> None:
    """A number in E.164's shape but in no numbering plan (area code 000) was accepted, and
    every tick of its campaign then failed."""
    agent_id = create_agent(client, tenant_a)
    number_id = _sip_number(
        client,
        tenant_a,
        agent_id,
        phone_number="+10005550100",
        outbound_trunk_config={"address": "trunk.example.com:5060"},
    )
    campaign = {"name": "Nowhere", "agent_id": agent_id, "agent_phone_number_id": number_id}
    refused = client.post("/v1/campaigns", json=campaign, headers=tenant_a.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["status"] == "invalid_caller_id"
    assert "+10005550100" in refused.json()["detail"]["message"]
    batch = submit_batch(client, tenant_a, agent_id, number_id)
    assert batch.status_code == 422, batch.text
    assert batch.json()["detail"]["status"] == "invalid_caller_id"


def test_a_field_agents_call_on_a_sip_trunk_campaign_is_queued_for_a_sip_node(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    token = user_token(client, database, tenant_a, Role.FIELD_AGENT, "ana@acme.example")
    agent_id = create_agent(client, tenant_a)
    number_id = _sip_number(
        client,
        tenant_a,
        agent_id,
        outbound_trunk_config={"address": "trunk.example.com:5060"},
    )
    campaign = {
        "name": "Trunk",
        "agent_id": agent_id,
        "agent_phone_number_id": number_id,
        "settings": {"calling_hours": {day: ["00:00-24:00"] for day in DAY_NAMES}},
    }
    campaign_id = client.post("/v1/campaigns", json=campaign, headers=tenant_a.headers).json()[
        "campaign_id"
    ]
    client.post(
        f"/v1/campaigns/{campaign_id}/leads",
        content="phone_number,owner_email\n+12122345601,ana@acme.example\n",
        headers={**tenant_a.headers, "content-type": "text/csv"},
    ).raise_for_status()
    [lead] = client.get("/v1/me/leads", headers={"Authorization": f"Bearer {token}"}).json()[
        "leads"
    ]
    placed = client.post(
        f"/v1/me/leads/{lead['lead_id']}/call", headers={"Authorization": f"Bearer {token}"}
    )
    assert placed.status_code == 200, placed.text
    body = placed.json()
    assert body["success"] is True
    with database.session() as session:
        call = session.scalars(select(Call).where(Call.id == body["conversation_id"])).one()
        assert (call.channel, call.status, call.provider_status) == ("sip", "initiated", "queued")
        assert call.provider_call_sid == body["call_sid"]
        assert call.to_number == "+12122345601"
