"""The dialer's decisions against the database, step by step, on SQLite and PostgreSQL: the
orders of events a crash, a pause or an early callback can produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import call_attempts as attempt_rows
from app.db import calls as call_queries
from app.db import campaigns as rows
from app.db import organizations as org_queries
from app.db import phone_numbers as number_queries
from app.db.models import CallAttempt, Campaign, utc_now
from app.db.session import Database
from app.outbound import campaign_outcomes, campaign_runs
from app.outbound.campaign_settings import CampaignSettings
from campaigns.states import CampaignState

pytestmark = pytest.mark.integration

WEDNESDAY_NOON_UTC = datetime(2027, 1, 6, 17, 0, tzinfo=UTC)  # noon in New York
LEAD = "+12122345678"


def campaign_of(database: Database, **settings: object) -> str:
    with database.session() as session:
        organization, _ = org_queries.create_organization(session, "Acme")
        agent = agent_queries.create_agent(session, organization.id, AgentConfig(name="Rep"))
        number = number_queries.create_phone_number(
            session, organization.id, phone_number="+12125550100", label="", provider="twilio"
        )
        plan = CampaignSettings.model_validate({"retry": {"rules": {}}, **settings})
        campaign = rows.create_campaign(
            session,
            organization.id,
            name="c",
            agent_id=agent.id,
            phone_number_id=number.id,
            state=CampaignState.DRAFT.value,
            settings=plan.model_dump(mode="json"),
        )
        rows.add_leads(session, campaign, [rows.NewLead(LEAD, None, {})], max_leads=10)
        campaign_runs.change_state(session, campaign, CampaignState.SCHEDULED)
        campaign_runs.change_state(session, campaign, CampaignState.RUNNING)
        return campaign.id


def claim(database: Database, campaign_id: str) -> list[str]:
    with database.session() as session:
        return campaign_runs.tick_campaign(session, campaign_id, WEDNESDAY_NOON_UTC).claimed


def set_state(session: Session, campaign_id: str, state: CampaignState) -> None:
    campaign_runs.change_state(session, rows.campaign_by_id(session, campaign_id), state)


def test_a_pause_before_the_dial_began_forgets_the_claim_and_resume_claims_again(
    database: Database,
) -> None:
    campaign_id = campaign_of(database)
    [first] = claim(database, campaign_id)
    with database.session() as session:
        set_state(session, campaign_id, CampaignState.PAUSED)
    with database.session() as session:
        assert campaign_runs.begin_dial(session, first) is None
    with database.session() as session:
        set_state(session, campaign_id, CampaignState.RUNNING)
    [again] = claim(database, campaign_id)
    with database.session() as session:
        order = campaign_runs.begin_dial(session, again)
        assert order is not None
        assert attempt_rows.attempt_by_id(session, again).number == 1
        assert (
            rows.lead_by_id(
                session, attempt_rows.attempt_by_id(session, again).lead_id
            ).attempts_made
            == 1
        )


def test_a_call_that_ended_before_its_dial_was_recorded_stays_ended(database: Database) -> None:
    campaign_id = campaign_of(
        database, retry={"rules": {"busy": {"delay_minutes": 10, "max_attempts": 3}}}
    )
    [attempt_id] = claim(database, campaign_id)
    with database.session() as session:
        order = campaign_runs.begin_dial(session, attempt_id)
        assert order is not None
        organization_id = order.organization_id
        call_queries.create_call(
            session,
            organization_id,
            agent_id=order.agent_id,
            direction="outbound",
            channel="twilio",
            call_id=order.conversation_id,
        )
    with database.session() as session:  # Twilio says busy before the dial task wrote its sid
        call_queries.record_status_callback(
            session, "CA" + "7" * 32, "busy", {}, call_id=order.conversation_id
        )
        assert campaign_outcomes.settle_ended_calls(session, WEDNESDAY_NOON_UTC) == 1
    with database.session() as session:
        campaign_runs.record_dial(session, attempt_id, "CA" + "7" * 32, None, WEDNESDAY_NOON_UTC)
    with database.session() as session:
        attempt = attempt_rows.attempt_by_id(session, attempt_id)
        lead = rows.lead_by_id(session, attempt.lead_id)
        assert (attempt.status, attempt.outcome) == ("ended", "busy")
        assert lead.status == "pending"
        assert lead.due_at == WEDNESDAY_NOON_UTC + timedelta(minutes=10)
        assert campaign_outcomes.settle_ended_calls(session, WEDNESDAY_NOON_UTC) == 0


def test_a_dial_twilio_may_have_received_is_never_dialed_again(database: Database) -> None:
    campaign_id = campaign_of(database)
    [attempt_id] = claim(database, campaign_id)
    with database.session() as session:
        assert campaign_runs.begin_dial(session, attempt_id) is not None
        campaign_runs.record_dial(
            session, attempt_id, None, "read timed out", WEDNESDAY_NOON_UTC, uncertain=True
        )
    with database.session() as session:
        attempt = attempt_rows.attempt_by_id(session, attempt_id)
        assert (attempt.status, attempt.outcome) == ("ended", "failed")
        assert rows.lead_by_id(session, attempt.lead_id).status == "finished"
    assert claim(database, campaign_id) == []


def test_a_call_that_never_reports_its_end_frees_its_place_without_a_redial(
    database: Database,
) -> None:
    campaign_id = campaign_of(database)
    [attempt_id] = claim(database, campaign_id)
    with database.session() as session:
        assert campaign_runs.begin_dial(session, attempt_id) is not None
        campaign_runs.record_dial(session, attempt_id, "CA" + "8" * 32, None, WEDNESDAY_NOON_UTC)
        attempt = session.get(CallAttempt, attempt_rows.attempt_by_id(session, attempt_id).seq)
        assert attempt is not None
        attempt.dialed_at = utc_now() - timedelta(hours=7)
    with database.session() as session:
        assert campaign_outcomes.settle_ended_calls(session, WEDNESDAY_NOON_UTC) == 1
    with database.session() as session:
        assert rows.count_active_attempts(session, campaign_id) == 0
        result = campaign_runs.tick_campaign(session, campaign_id, WEDNESDAY_NOON_UTC)
        assert (result.claimed, result.completed) == ([], True)


def test_a_tick_does_not_start_a_campaign_cancelled_meanwhile(database: Database) -> None:
    campaign_id = campaign_of(database, starts_at="2027-01-06T18:00:00Z")
    with database.session() as session:
        campaign = session.get(Campaign, rows.campaign_by_id(session, campaign_id).seq)
        assert campaign is not None
        campaign.state = CampaignState.SCHEDULED.value
    with database.session() as session:
        set_state(session, campaign_id, CampaignState.CANCELLED)
    with database.session() as session:
        started = rows.start_scheduled(
            session, campaign_id, CampaignState.RUNNING.value, CampaignState.SCHEDULED.value
        )
        assert not started
        assert rows.campaign_by_id(session, campaign_id).state == "cancelled"


def test_a_claim_whose_dial_task_is_queued_is_not_queued_again_by_the_next_tick(
    database: Database,
) -> None:
    campaign_id = campaign_of(database)
    [attempt_id] = claim(database, campaign_id)
    later = WEDNESDAY_NOON_UTC + timedelta(minutes=5)
    with database.session() as session:  # the tick that claimed it died before queueing it
        assert attempt_rows.unsent_claims(session, later, WEDNESDAY_NOON_UTC) == [attempt_id]
        attempt_rows.mark_sent(session, [attempt_id], WEDNESDAY_NOON_UTC)
    with database.session() as session:  # queued: waiting its turn in a long queue
        assert attempt_rows.unsent_claims(session, later, WEDNESDAY_NOON_UTC) == []
    with database.session() as session:  # queued long ago and never begun: the message was lost
        assert attempt_rows.unsent_claims(session, later, later) == [attempt_id]


def test_due_leads_come_never_called_first_then_by_when_they_are_due(database: Database) -> None:
    campaign_id = campaign_of(database)
    with database.session() as session:
        campaign = rows.campaign_by_id(session, campaign_id)
        rows.add_leads(
            session,
            campaign,
            [rows.NewLead(f"+1212555{n:04d}", None, {}) for n in range(4)],
            max_leads=10,
        )
    with database.session() as session:
        leads = rows.due_leads(session, campaign_id, WEDNESDAY_NOON_UTC, 10)
        first, second, *rest = leads
        first.due_at = WEDNESDAY_NOON_UTC - timedelta(minutes=1)  # a retry, due
        second.due_at = WEDNESDAY_NOON_UTC - timedelta(minutes=2)  # an earlier retry, due
        rest[0].due_at = WEDNESDAY_NOON_UTC + timedelta(hours=1)  # not due yet
        expected = [lead.phone_number for lead in rest[1:]] + [
            second.phone_number,
            first.phone_number,
        ]
    with database.session() as session:
        due = rows.due_leads(session, campaign_id, WEDNESDAY_NOON_UTC, 10)
        assert [lead.phone_number for lead in due] == expected
        assert [
            lead.phone_number
            for lead in rows.due_leads(session, campaign_id, WEDNESDAY_NOON_UTC, 2)
        ] == expected[:2]
