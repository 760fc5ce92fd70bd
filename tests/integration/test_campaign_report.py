"""A campaign's report (`GET /v1/campaigns/{id}/report`), on SQLite and PostgreSQL: every lead
as one CSV line with its owner, its progress and its last call; read by the roles that may read
campaigns, refused to the others, and never another organization's. And the progress the
campaign shows beside it: leads dialed and answered."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from app.db import campaigns as campaign_rows
from app.db.call_attempts import add_attempt, close_attempt
from app.db.campaign_report import COLUMNS
from app.db.models import utc_now
from app.db.session import Database
from app.people.roles import Role
from tests.campaign_setup import campaign_with_a_number
from tests.people import user_token
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

LEADS_CSV = (
    "phone_number,name,owner_email,company\n"
    "+12122345601,Maria Lopez,ana@acme.example,Lopez Dental\n"
    "+12122345602,=HYPERLINK(evil),,Park & Co\n"
)


def report_rows(response_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response_text)))


@pytest.fixture
def campaign_id(client: TestClient, database: Database, tenant_a: Tenant) -> str:
    user_token(client, database, tenant_a, Role.FIELD_AGENT, "ana@acme.example")
    campaign_id, _ = campaign_with_a_number(client, tenant_a)
    uploaded = client.post(
        f"/v1/campaigns/{campaign_id}/leads",
        content=LEADS_CSV,
        headers={**tenant_a.headers, "content-type": "text/csv"},
    )
    assert uploaded.json()["imported"] == 2, uploaded.text
    return campaign_id


def test_the_report_has_one_line_per_lead_with_its_owner_and_last_call(
    client: TestClient, database: Database, tenant_a: Tenant, campaign_id: str
) -> None:
    leads = client.get(f"/v1/campaigns/{campaign_id}/leads", headers=tenant_a.headers).json()
    first = leads["leads"][0]["lead_id"]
    with database.session() as session:
        campaign = campaign_rows.campaign_by_id(session, campaign_id)
        add_attempt(session, campaign, campaign_rows.lead_by_id(session, first), utc_now())

    response = client.get(f"/v1/campaigns/{campaign_id}/report", headers=tenant_a.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="campaign-{campaign_id}.csv"' in response.headers["content-disposition"]
    assert response.text.splitlines()[0] == ",".join(COLUMNS)
    maria, park = report_rows(response.text)
    assert (maria["phone_number"], maria["name"]) == ("+12122345601", "Maria Lopez")
    assert maria["owner_email"] == "ana@acme.example"
    assert maria["last_conversation_id"].startswith("conv_")
    assert json.loads(maria["variables"])["company"] == "Lopez Dental"
    assert park["owner_email"] == ""
    assert park["last_conversation_id"] == ""
    assert park["status"] == "pending"
    assert park["name"] == "'=HYPERLINK(evil)"  # shown by a spreadsheet, never run


def test_support_may_read_the_report_and_a_field_agent_may_not(
    client: TestClient, database: Database, tenant_a: Tenant, campaign_id: str
) -> None:
    support = user_token(client, database, tenant_a, Role.SUPPORT)
    agent = user_token(client, database, tenant_a, Role.FIELD_AGENT, "ben@acme.example")
    path = f"/v1/campaigns/{campaign_id}/report"

    read = client.get(path, headers={"Authorization": f"Bearer {support}"})
    refused = client.get(path, headers={"Authorization": f"Bearer {agent}"})

    assert read.status_code == 200
    assert len(report_rows(read.text)) == 2
    assert refused.status_code == 403


def test_another_organization_cannot_read_the_report(
    client: TestClient, tenant_b: Tenant, campaign_id: str
) -> None:
    response = client.get(f"/v1/campaigns/{campaign_id}/report", headers=tenant_b.headers)

    assert response.status_code == 404
    assert campaign_id in response.json()["detail"]["message"]


def test_progress_counts_the_leads_dialed_and_the_leads_answered(
    client: TestClient, database: Database, tenant_a: Tenant, campaign_id: str
) -> None:
    leads = client.get(f"/v1/campaigns/{campaign_id}/leads", headers=tenant_a.headers).json()
    maria, park = (lead["lead_id"] for lead in leads["leads"])
    with database.session() as session:
        campaign = campaign_rows.campaign_by_id(session, campaign_id)
        for lead_id, outcome in ((maria, "interested"), (park, "no_answer")):
            attempt = add_attempt(
                session, campaign, campaign_rows.lead_by_id(session, lead_id), utc_now()
            )
            session.flush()
            close_attempt(session, attempt.id, outcome, "", None)

    progress = client.get(f"/v1/campaigns/{campaign_id}", headers=tenant_a.headers).json()[
        "progress"
    ]

    assert (progress["leads_total"], progress["leads_dialed"]) == (2, 2)
    assert progress["leads_answered"] == 1
    assert progress["outcomes"] == {"interested": 1, "no_answer": 1}
