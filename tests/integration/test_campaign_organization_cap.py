"""An organization's campaigns together keep to its cap of calls in flight, on top of each
campaign's pacing (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import call_attempts as attempt_rows
from app.db import campaigns as rows
from app.db import organizations as org_queries
from app.db import phone_numbers as number_queries
from app.db.session import Database
from app.observability.metrics import CAMPAIGN_DIALS_HELD
from app.outbound import campaign_runs
from app.outbound.campaign_settings import CampaignSettings
from campaigns.states import CampaignState

pytestmark = pytest.mark.integration

WEDNESDAY_NOON_UTC = datetime(2027, 1, 6, 17, 0, tzinfo=UTC)  # noon in New York


def organization_with_campaigns(
    database: Database, name: str, campaigns: int, caller_id: str = "+12125550100"
) -> list[str]:
    """An organization whose `campaigns` running campaigns each have 10 leads and may start
    10 calls at once and 100 a minute."""
    ids = []
    with database.session() as session:
        organization, _ = org_queries.create_organization(session, name)
        agent = agent_queries.create_agent(session, organization.id, AgentConfig(name="Rep"))
        number = number_queries.create_phone_number(
            session, organization.id, phone_number=caller_id, label="", provider="twilio"
        )
        plan = CampaignSettings.model_validate(
            {"retry": {"rules": {}}, "max_concurrent_calls": 10, "calls_per_minute": 100}
        )
        for index in range(campaigns):
            campaign = rows.create_campaign(
                session,
                organization.id,
                name=f"c{index}",
                agent_id=agent.id,
                phone_number_id=number.id,
                state=CampaignState.DRAFT.value,
                settings=plan.model_dump(mode="json"),
            )
            leads = [rows.NewLead(f"+1212234{index}{n:03d}", None, {}) for n in range(10)]
            rows.add_leads(session, campaign, leads, max_leads=10)
            campaign_runs.change_state(session, campaign, CampaignState.SCHEDULED)
            campaign_runs.change_state(session, campaign, CampaignState.RUNNING)
            ids.append(campaign.id)
    return ids


def tick(database: Database, campaign_id: str, cap: int | None) -> int:
    with database.session() as session:
        result = campaign_runs.tick_campaign(
            session, campaign_id, WEDNESDAY_NOON_UTC, organization_cap=cap
        )
        return len(result.claimed)


def test_the_campaigns_of_an_organization_share_its_cap_and_others_keep_theirs(
    database: Database,
) -> None:
    first, second = organization_with_campaigns(database, "Acme", 2)
    [other] = organization_with_campaigns(database, "Globex", 1, "+12125550199")
    held_before = CAMPAIGN_DIALS_HELD._value.get()
    assert tick(database, first, cap=6) == 6  # its own pacing would start 10
    assert tick(database, second, cap=6) == 0  # the organization has 6 in flight
    assert tick(database, first, cap=6) == 0
    assert CAMPAIGN_DIALS_HELD._value.get() == held_before + 4 + 10 + 4
    # Another organization is not held by Acme's calls.
    assert tick(database, other, cap=6) == 6


def test_ended_attempts_make_room_again(database: Database) -> None:
    first, second = organization_with_campaigns(database, "Acme", 2)
    assert tick(database, first, cap=4) == 4
    assert tick(database, second, cap=4) == 0
    with database.session() as session:
        organization_id = rows.campaign_by_id(session, first).organization_id
        ended = attempt_rows.list_attempts(session, organization_id, first)[:3]
        for attempt in ended:
            assert attempt_rows.close_attempt(session, attempt.id, "no_answer", "", None)
    assert tick(database, second, cap=4) == 3


def test_without_a_cap_each_campaign_keeps_only_its_own_pacing(database: Database) -> None:
    first, second = organization_with_campaigns(database, "Acme", 2)
    assert tick(database, first, cap=None) == 10
    assert tick(database, second, cap=None) == 10
