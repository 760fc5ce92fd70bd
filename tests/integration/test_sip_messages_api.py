"""A SIP call's messages over the API: in order, a page at a time, only the organization's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.db import calls as call_queries
from app.db.session import Database
from app.db.sip_messages import LoggedSipMessage, save_sip_messages
from tests.integration.test_api_access import create_agent
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


def logged(index: int) -> LoggedSipMessage:
    direction = "in" if index % 2 == 0 else "out"
    return LoggedSipMessage(
        sip_call_id="abc@192.0.2.10",
        direction=direction,
        local_address="198.51.100.1:5060",
        remote_address="192.0.2.10:5060",
        raw_message=f"MESSAGE {index}",
        created_at_unix_micro=1_800_000_000_000_000 + index,
    )


def sip_call(client: TestClient, database: Database, tenant: Tenant) -> str:
    agent_id = create_agent(client, tenant)
    with database.session() as session:
        call = call_queries.create_call(
            session,
            tenant.organization_id,
            agent_id=agent_id,
            direction="inbound",
            channel="sip",
            from_number="+15552223333",
            to_number="+15550001111",
        )
        save_sip_messages(session, tenant.organization_id, call.id, [logged(i) for i in range(5)])
        return call.id


def test_the_messages_come_in_order_a_page_at_a_time(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    call_id = sip_call(client, database, tenant_a)
    url = f"/v1/convai/conversations/{call_id}/sip-messages"
    first = client.get(url, params={"page_size": 3}, headers=tenant_a.headers).json()
    assert [m["raw_message"] for m in first["sip_messages"]] == [f"MESSAGE {i}" for i in range(3)]
    assert first["has_more"] is True
    assert first["sip_messages"][0] == {
        "call_id": "abc@192.0.2.10",
        "phone_numbers": ["+15552223333", "+15550001111"],
        "local_address": "198.51.100.1:5060",
        "remote_address": "192.0.2.10:5060",
        "transport": "udp",
        "raw_message": "MESSAGE 0",
        "error_message": "",
        "direction": "in",
        "created_at_unix_micro": 1_800_000_000_000_000,
    }
    second = client.get(
        url, params={"page_size": 3, "cursor": first["next_cursor"]}, headers=tenant_a.headers
    ).json()
    assert [m["raw_message"] for m in second["sip_messages"]] == ["MESSAGE 3", "MESSAGE 4"]
    assert second["has_more"] is False
    assert second["next_cursor"] is None


def test_another_organizations_call_is_not_found(
    client: TestClient, database: Database, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    call_id = sip_call(client, database, tenant_a)
    response = client.get(
        f"/v1/convai/conversations/{call_id}/sip-messages", headers=tenant_b.headers
    )
    assert response.status_code == 404


def test_a_cursor_that_is_not_ours_is_422(
    client: TestClient, database: Database, tenant_a: Tenant
) -> None:
    call_id = sip_call(client, database, tenant_a)
    response = client.get(
        f"/v1/convai/conversations/{call_id}/sip-messages",
        params={"cursor": "x"},
        headers=tenant_a.headers,
    )
    assert response.status_code == 422
