"""Leads for field agents, on SQLite and PostgreSQL: given to a field agent by the leads file or
by a manager, listed with their last call to their owner only, worked with outcomes and call
backs; and the agents a field agent may talk to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import calls as call_queries
from app.db import campaigns as campaign_rows
from app.db.call_attempts import add_attempt
from app.db.models import CallAnalysis, CampaignLead, LeadReport, utc_now
from app.db.session import Database
from app.outbound.campaign_settings import DAY_NAMES
from app.people.roles import Role
from tests.campaign_setup import campaign_with_a_number
from tests.e2e.twilio_rest_double import twilio_rest_double
from tests.people import user_token
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

ANA, BEN = "ana@acme.example", "ben@acme.example"
LEADS_CSV = (
    "phone_number,name,owner_email\n"
    "+12122345601,Maria Lopez,Ana@Acme.example\n"
    "+12122345602,John Park,ben@acme.example\n"
    "+12122345603,Nobody's,\n"
    "+12122345604,Lost,nobody@acme.example\n"
)


# Calling hours open at any hour of any day, so a test may call a lead whenever it runs.
ALWAYS_OPEN = {"calling_hours": {day: ["00:00-24:00"] for day in DAY_NAMES}}


@dataclass
class Team:
    campaign_id: str
    agent_id: str
    ana: dict[str, str]
    ben: dict[str, str]
    manager: dict[str, str]  # the organization's API key


@pytest.fixture
def team(client: TestClient, database: Database, tenant_a: Tenant) -> Team:
    ana = user_token(client, database, tenant_a, Role.FIELD_AGENT, ANA)
    ben = user_token(client, database, tenant_a, Role.FIELD_AGENT, BEN)
    campaign_id, agent_id = campaign_with_a_number(client, tenant_a, settings=ALWAYS_OPEN)
    uploaded = client.post(
        f"/v1/campaigns/{campaign_id}/leads",
        content=LEADS_CSV,
        headers={**tenant_a.headers, "content-type": "text/csv"},
    )
    assert uploaded.status_code == 200, uploaded.text
    result = uploaded.json()
    assert (result["imported"], result["rejected"]) == (3, 1)
    [bad] = result["rejected_rows"]
    assert bad["line"] == 5
    assert "owner_email 'nobody@acme.example'" in bad["reason"]
    return Team(
        campaign_id,
        agent_id,
        {"Authorization": f"Bearer {ana}"},
        {"Authorization": f"Bearer {ben}"},
        tenant_a.headers,
    )


def lead_row(session: Session, lead_id: object) -> CampaignLead:
    return session.scalars(select(CampaignLead).where(CampaignLead.id == lead_id)).one()


def my_leads(client: TestClient, who: dict[str, str], **params: str) -> list[dict[str, object]]:
    response = client.get("/v1/me/leads", headers=who, params=params)
    assert response.status_code == 200, response.text
    leads: list[dict[str, object]] = response.json()["leads"]
    return leads


def test_each_field_agent_sees_only_the_leads_given_to_them(client: TestClient, team: Team) -> None:
    [anas] = my_leads(client, team.ana)
    assert anas["phone_number"] == "+12122345601"
    assert anas["owner_email"] == ANA
    assert anas["campaign_name"] == "Spring visits"
    assert anas["variables"] == {"name": "Maria Lopez"}  # the owner is not a prompt variable
    assert (anas["status"], anas["last_call"], anas["next_callback"]) == ("pending", None, None)
    [bens] = my_leads(client, team.ben)
    assert bens["phone_number"] == "+12122345602"

    by_owner = client.get(
        f"/v1/campaigns/{team.campaign_id}/leads",
        params={"owner_email": ANA.upper()},
        headers=team.manager,
    )
    assert [lead["lead_id"] for lead in by_owner.json()["leads"]] == [anas["lead_id"]]
    everyone = client.get(f"/v1/campaigns/{team.campaign_id}/leads", headers=team.manager)
    assert [lead["owner_email"] for lead in everyone.json()["leads"]] == [ANA, BEN, None]

    by_key = client.get("/v1/me/leads", headers=team.manager)
    assert by_key.status_code == 400
    assert by_key.json()["detail"]["status"] == "not_a_user"


def test_a_lead_shows_its_last_calls_summary_outcome_and_collected_data(
    client: TestClient, database: Database, team: Team, tenant_a: Tenant
) -> None:
    [lead] = my_leads(client, team.ana)
    with database.session() as session:
        row = lead_row(session, lead["lead_id"])
        campaign = campaign_rows.campaign_by_id(session, team.campaign_id)
        for _ in range(2):  # two dials: the second is the one shown
            attempt = add_attempt(session, campaign, row, utc_now())
            attempt.status, attempt.outcome = "ended", "no_answer"
        attempt.outcome = "completed"
        conversation_id = attempt.conversation_id
        row.status = "finished"
        call = call_queries.create_call(
            session,
            tenant_a.organization_id,
            agent_id=team.agent_id,
            direction="outbound",
            channel="twilio",
            to_number=row.phone_number,
            call_id=attempt.conversation_id,
        )
        session.add(
            CallAnalysis(
                call_id=call.id,
                organization_id=tenant_a.organization_id,
                status="done",
                summary="Maria wants a quote for two rooms.",
                title="Quote wanted",
                outcome="interested",
                data={"rooms": 2},
            )
        )
    [shown] = my_leads(client, team.ana)
    last_call = shown["last_call"]
    assert isinstance(last_call, dict)
    assert last_call["conversation_id"] == conversation_id
    assert last_call["attempt_number"] == 2
    assert last_call["summary"] == "Maria wants a quote for two rooms."
    assert last_call["outcome"] == "interested"  # the analysis', over the dial's `completed`
    assert last_call["data_collected"] == {"rooms": 2}
    assert my_leads(client, team.ana, status="pending") == []


def record(
    client: TestClient, who: dict[str, str], lead_id: object, **body: object
) -> tuple[int, dict[str, object]]:
    response = client.post(f"/v1/me/leads/{lead_id}/outcome", json=body, headers=who)
    return response.status_code, response.json()


def test_a_field_agent_records_outcomes_notes_and_call_backs(
    client: TestClient, team: Team
) -> None:
    [lead] = my_leads(client, team.ana)
    tomorrow = int(time.time()) + 86_400

    status, body = record(client, team.ana, lead["lead_id"], outcome="call_back")
    assert (status, body["detail"]["status"]) == (422, "invalid_outcome")
    assert "needs call_back_at_unix" in body["detail"]["message"]
    status, body = record(
        client, team.ana, lead["lead_id"], outcome="call_back", call_back_at_unix=1000
    )
    assert (status, body["detail"]["message"]) == (422, "call_back_at_unix is in the past")
    assert record(client, team.ana, lead["lead_id"], outcome="no_answer")[0] == 422
    assert record(client, team.ben, lead["lead_id"], outcome="interested")[0] == 404

    status, body = record(
        client,
        team.ana,
        lead["lead_id"],
        outcome="call_back",
        note="Busy with a customer; ring after lunch.",
        call_back_at_unix=tomorrow,
    )
    assert status == 200, body
    assert (body["status"], body["last_outcome"]) == ("finished", "call_back")
    assert "recorded by ana@acme.example" in str(body["finished_reason"])
    callback = body["next_callback"]
    assert isinstance(callback, dict)
    assert (callback["due_at_unix_secs"], callback["source"]) == (tomorrow, "field_agent")
    [listed] = client.get("/v1/me/callbacks", headers=team.ana).json()["callbacks"]
    assert listed["callback_id"] == callback["callback_id"]
    assert listed["lead"]["phone_number"] == "+12122345601"
    assert listed["note"] == "Busy with a customer; ring after lunch."
    due_now = client.get("/v1/me/callbacks", params={"due_before_unix": tomorrow}, headers=team.ana)
    assert due_now.json()["callbacks"] == []
    assert client.get("/v1/me/callbacks", headers=team.ben).json()["callbacks"] == []

    status, body = record(
        client, team.ana, lead["lead_id"], outcome="meeting_booked", note="Visit on Tuesday."
    )
    assert status == 200
    assert body["next_callback"] is None  # the call back was done
    report = body["last_report"]
    assert isinstance(report, dict)
    assert (report["outcome"], report["note"], report["recorded_by"]) == (
        "meeting_booked",
        "Visit on Tuesday.",
        ANA,
    )
    assert client.get("/v1/me/callbacks", headers=team.ana).json()["callbacks"] == []


def test_do_not_call_lists_the_number_and_a_lead_on_a_call_waits(
    client: TestClient, database: Database, team: Team
) -> None:
    [lead] = my_leads(client, team.ben)
    with database.session() as session:
        row = lead_row(session, lead["lead_id"])
        row.status = "calling"
    status, body = record(client, team.ben, lead["lead_id"], outcome="not_interested")
    assert (status, body["detail"]["status"]) == (409, "lead_busy")
    with database.session() as session:
        row = lead_row(session, lead["lead_id"])
        row.status = "pending"

    assert record(client, team.ben, lead["lead_id"], outcome="do_not_call")[0] == 200
    listed = client.get("/v1/do-not-call", headers=team.manager).json()
    assert [(e["phone_number"], e["source"]) for e in listed] == [("+12122345602", "field_agent")]


def test_a_lead_given_to_someone_else_takes_its_call_backs_along_and_is_audited(
    client: TestClient, team: Team
) -> None:
    [lead] = my_leads(client, team.ana)
    url = f"/v1/campaigns/{team.campaign_id}/leads/{lead['lead_id']}"
    in_an_hour = int(time.time()) + 3600
    status, _ = record(
        client, team.ana, lead["lead_id"], outcome="call_back", call_back_at_unix=in_an_hour
    )
    assert status == 200

    unknown = client.patch(url, json={"owner_email": "zoe@acme.example"}, headers=team.manager)
    assert (unknown.status_code, unknown.json()["detail"]["status"]) == (422, "unknown_owner")
    moved = client.patch(url, json={"owner_email": BEN}, headers=team.manager)
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner_email"] == BEN
    assert my_leads(client, team.ana) == []
    [callback] = client.get("/v1/me/callbacks", headers=team.ben).json()["callbacks"]
    assert callback["due_at_unix_secs"] == in_an_hour

    taken_back = client.patch(url, json={"owner_email": None}, headers=team.manager)
    assert taken_back.json()["owner_email"] is None
    assert client.get("/v1/me/callbacks", headers=team.ben).json()["callbacks"] == []

    entries = client.get("/v1/audit", headers=team.manager).json()["entries"]
    changes = [e["detail"] for e in entries if e["target_type"] == "lead"]
    assert changes == [{"owner": None}, {"owner": BEN}]  # newest first


def test_a_field_agent_talks_only_to_the_agents_an_admin_allowed(
    client: TestClient, database: Database, team: Team, tenant_a: Tenant
) -> None:
    other = client.post(
        "/v1/convai/agents/create",
        json={"name": "Scheduler", "conversation_config": {}},
        headers=team.manager,
    ).json()["agent_id"]
    users = client.get("/v1/users", headers=team.manager).json()["users"]
    [ana] = [u for u in users if u["email"] == ANA]
    assert ana["agent_ids"] is None
    names = {a["name"] for a in client.get("/v1/me/agents", headers=team.ana).json()["agents"]}
    assert names == {"Rep", "Scheduler"}

    user_url = f"/v1/users/{ana['user_id']}"
    refused = client.patch(user_url, json={"agent_ids": ["agent_nope"]}, headers=team.manager)
    assert (refused.status_code, refused.json()["detail"]["status"]) == (422, "unknown_agent")
    narrowed = client.patch(user_url, json={"agent_ids": [team.agent_id]}, headers=team.manager)
    assert narrowed.json()["agent_ids"] == [team.agent_id]

    agents = client.get("/v1/me/agents", headers=team.ana).json()["agents"]
    assert [a["agent_id"] for a in agents] == [team.agent_id]
    signed = "/v1/convai/conversation/get-signed-url"
    allowed = client.get(signed, params={"agent_id": team.agent_id}, headers=team.ana)
    assert allowed.status_code == 200
    denied = client.get(signed, params={"agent_id": other}, headers=team.ana)
    assert (denied.status_code, denied.json()["detail"]["status"]) == (403, "agent_not_allowed")
    # Other field agents and people of other roles are not narrowed.
    assert client.get(signed, params={"agent_id": other}, headers=team.ben).status_code == 200

    client.patch(user_url, json={"agent_ids": None}, headers=team.manager)
    assert client.get(signed, params={"agent_id": other}, headers=team.ana).status_code == 200


def test_a_call_back_more_than_a_year_ahead_is_refused(client: TestClient, team: Team) -> None:
    [lead] = my_leads(client, team.ana)
    too_far = int(time.time() + timedelta(days=400).total_seconds())
    status, body = record(
        client, team.ana, lead["lead_id"], outcome="call_back", call_back_at_unix=too_far
    )
    assert (status, body["detail"]["message"]) == (
        422,
        "call_back_at_unix is more than a year ahead",
    )


def test_a_field_agent_has_the_agent_call_their_lead_under_the_dialers_rules(
    client: TestClient, team: Team
) -> None:
    [anas] = my_leads(client, team.ana)
    [bens] = my_leads(client, team.ben)
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with twilio_rest_double() as twilio:
        client.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
            update={
                "twilio_account_sid": "AC" + "0" * 32,
                "twilio_auth_token": "secret",
                "twilio_api_base_url": twilio.base_url,
            }
        )
        placed = client.post(f"/v1/me/leads/{anas['lead_id']}/call", headers=team.ana)
        assert placed.status_code == 200, placed.text
        body = placed.json()
        assert body["success"] is True
        [dialed] = twilio.created
        assert dialed.form["To"] == "+12122345601"
        assert dialed.form["From"] == "+12125550155"  # the campaign's number

        again = client.post(f"/v1/me/leads/{anas['lead_id']}/call", headers=team.ana)
        assert (again.status_code, again.json()["detail"]["status"]) == (409, "lead_busy")
        client.post("/v1/do-not-call", json={"phone_number": "+12122345602"}, headers=team.manager)
        listed = client.post(f"/v1/me/leads/{bens['lead_id']}/call", headers=team.ben)
        assert (listed.status_code, listed.json()["detail"]["status"]) == (409, "do_not_call")
        assert len(twilio.created) == 1
    [shown] = my_leads(client, team.ana)
    assert shown["status"] == "calling"
    last_call = shown["last_call"]
    assert isinstance(last_call, dict)
    assert last_call["conversation_id"] == body["conversation_id"]
    assert client.post(f"/v1/me/leads/{bens['lead_id']}/call", headers=team.ana).status_code == 404


def test_a_lead_is_not_called_outside_its_calling_hours(
    client: TestClient, team: Team, tenant_a: Tenant
) -> None:
    opens = "2030-01-07T14:00:00Z"  # a Monday, 09:00 in New York
    campaign_id, _ = campaign_with_a_number(
        client, tenant_a, number="+12125550166", settings={"starts_at": opens}
    )
    client.post(
        f"/v1/campaigns/{campaign_id}/leads",
        content=f"phone_number,owner_email\n+12122345609,{ANA}\n",
        headers={**tenant_a.headers, "content-type": "text/csv"},
    )
    [later] = my_leads(client, team.ana, status="pending")[1:]
    refused = client.post(f"/v1/me/leads/{later['lead_id']}/call", headers=team.ana)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert detail["status"] == "outside_calling_hours"
    assert detail["message"].endswith("they open at 2030-01-07T14:00+00:00")


def test_an_outcome_sent_again_with_its_idempotency_key_is_stored_once(
    client: TestClient, database: Database, team: Team
) -> None:
    [lead] = my_leads(client, team.ana)
    url = f"/v1/me/leads/{lead['lead_id']}/outcome"
    body = {"outcome": "interested", "note": "Wants the brochure."}
    keyed = {**team.ana, "Idempotency-Key": "offline-7f3a"}
    first = client.post(url, json=body, headers=keyed)
    replayed = client.post(url, json=body, headers=keyed)  # the app lost the first answer
    assert first.status_code == replayed.status_code == 200
    assert first.json() == replayed.json()
    with database.session() as session:
        notes = list(session.scalars(select(LeadReport.note)))
    assert notes == ["Wants the brochure."]
    [other] = my_leads(client, team.ben)
    reused = client.post(
        f"/v1/me/leads/{other['lead_id']}/outcome",
        json=body,
        headers={**team.ben, "Idempotency-Key": "offline-7f3a"},
    )
    assert reused.status_code == 200  # keys are per person: Ben's is his own
