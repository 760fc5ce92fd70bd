"""Post-call analysis against the database, on SQLite and PostgreSQL: queued with the stored
call, claimed once, answered by the agent's chain of models, stored, and acted on (do-not-call,
a campaign attempt's outcome in either order of analysis and call end, the webhook)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.analysis import runs as analysis_runs
from app.calls.store import save_record
from app.config.agent import AgentConfig
from app.db import agents as agent_queries
from app.db import analyses as analysis_rows
from app.db import call_attempts as attempt_rows
from app.db import calls as call_queries
from app.db import campaigns as rows
from app.db import do_not_call
from app.db import field_leads as field_lead_rows
from app.db import organizations as org_queries
from app.db import people as people_rows
from app.db import phone_numbers as number_queries
from app.db import webhooks as webhook_rows
from app.db.models import WebhookDelivery
from app.db.session import Database
from app.engine.record import CallRecord, TurnRecord
from app.outbound import campaign_outcomes, campaign_runs
from app.outbound.campaign_settings import CampaignSettings
from app.providers.base import (
    ChatMessage,
    GenerationOptions,
    LlmEvent,
    ProviderError,
    TextDelta,
    ToolSpec,
)
from app.providers.registry import ProviderRegistry
from campaigns.outcomes import Outcome
from campaigns.states import CampaignState

pytestmark = pytest.mark.integration

SECRET = b"analysis-test-secret-0123456789abcdef"
NOON_UTC = datetime(2027, 1, 6, 17, 0, tzinfo=UTC)  # noon in New York
LEAD = "+12122345678"
AGENT = {
    "name": "Rep",
    "platform_settings": {
        "data_collection": {"best_day": {"type": "string", "description": "day to call back"}}
    },
    "velox": {"providers": {"llm": "down"}, "fallbacks": {"llm": ["scripted"]}},
}


class ScriptedModel:
    """A language model that answers every analysis with one fixed JSON reply."""

    def __init__(self, name: str, reply: dict[str, object] | None) -> None:
        self.name = name
        self.reply = reply
        self.asked: list[list[ChatMessage]] = []

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, object], options: GenerationOptions
    ) -> str:
        self.asked.append(messages)
        if self.reply is None:
            raise ProviderError(self.name, "HTTP 503: unavailable", status=503)
        return json.dumps(self.reply)

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec], options: GenerationOptions
    ) -> AsyncIterator[LlmEvent]:
        yield TextDelta(await self.complete_json(messages, {}, options))


def registry_with(reply: dict[str, object]) -> tuple[ProviderRegistry, ScriptedModel]:
    registry = ProviderRegistry()
    scripted = ScriptedModel("scripted", reply)
    registry.llm.register("down", lambda: ScriptedModel("down", None))
    registry.llm.register("scripted", lambda: scripted)
    return registry, scripted


def reply(outcome: str, **extra: object) -> dict[str, object]:
    return {
        "summary": "They talked about a dental cleaning.",
        "title": "Cleaning",
        "sentiment": "positive",
        "outcome": outcome,
        "call_successful": "success",
        "data": {"best_day": "Friday"},
        **extra,
    }


def store_call(
    database: Database,
    organization_id: str,
    agent_id: str,
    said: str,
    *,
    call_id: str | None = None,
    from_number: str = LEAD,
) -> str:
    with database.session() as session:
        if call_id is None:
            call = call_queries.create_call(
                session,
                organization_id,
                agent_id=agent_id,
                direction="inbound",
                channel="twilio",
                from_number=from_number,
                to_number="+12125550100",
            )
            call_id = call.id
        record = CallRecord.opened(call_id, organization_id, agent_id)
        record.ended_at = record.started_at + timedelta(seconds=20)
        record.turns = [
            TurnRecord(
                "agent", "Hi, this is Rep from Acme Dental.", 0, metrics={"speech_ms": 2000}
            ),
            TurnRecord("user", said, 3000, metrics={"speech_ms": 1500, "voice_to_voice_ms": 800}),
            TurnRecord("agent", "Thanks, goodbye.", 5300, metrics={"speech_ms": 1200}),
        ]
        save_record(session, record)
        return call_id


def organization(database: Database) -> tuple[str, str]:
    with database.session() as session:
        org, _ = org_queries.create_organization(session, "Acme")
        agent = agent_queries.create_agent(session, org.id, AgentConfig.model_validate(AGENT))
        webhook_rows.create_endpoint(
            session,
            org.id,
            name="crm",
            url="http://127.0.0.1:9/hook",
            encrypted_secret="unused",
            request_headers={},
            events=["analysis_ready"],
        )
        return org.id, agent.id


def analyse(database: Database, registry: ProviderRegistry, now: datetime = NOON_UTC) -> str:
    """Claim the next analysis and run it as the worker does; returns its call id."""
    with database.session() as session:
        claimed = analysis_rows.claim_next(session, now, timedelta(minutes=6))
        assert claimed is not None
        job = analysis_runs.load_job(session, claimed.call_id, SECRET)
    finding = analysis_runs.find(job, registry, time.monotonic() + 60)
    with database.session() as session:
        assert analysis_runs.store(session, claimed, job, finding, failed=False, now=now)
    return claimed.call_id


def test_a_stored_call_is_queued_once_and_claimed_by_one_worker(database: Database) -> None:
    organization_id, agent_id = organization(database)
    call_id = store_call(database, organization_id, agent_id, "Do you open on Saturdays?")
    store_call(database, organization_id, agent_id, "Do you open on Saturdays?", call_id=call_id)
    lease = timedelta(minutes=6)
    with database.session() as session:
        first = analysis_rows.claim_next(session, NOON_UTC, lease)
    with database.session() as session:
        assert analysis_rows.claim_next(session, NOON_UTC, lease) is None  # held
    with database.session() as session:  # the first worker died: its lease runs out
        again = analysis_rows.claim_next(session, NOON_UTC + lease + timedelta(seconds=1), lease)
    assert first is not None
    assert again is not None
    assert (first.call_id, first.attempt, again.attempt) == (call_id, 1, 2)
    with database.session() as session:  # the dead worker's late result is not written
        assert not analysis_rows.store_result(session, first, status="done", values={})


def test_the_first_model_of_the_chain_that_answers_writes_the_analysis(
    database: Database,
) -> None:
    organization_id, agent_id = organization(database)
    call_id = store_call(database, organization_id, agent_id, "Can I book a cleaning?")
    registry, scripted = registry_with(reply("meeting_booked"))

    assert analyse(database, registry) == call_id
    assert "Caller: Can I book a cleaning?" in scripted.asked[0][1].content
    with database.session() as session:
        row = analysis_rows.analysis_of(session, call_id)
        assert row is not None
        body = analysis_runs.analysis_body(row, AgentConfig.model_validate(AGENT))
        deliveries = session.scalars(select(WebhookDelivery)).all()
    assert body["transcript_summary"] == "They talked about a dental cleaning."
    assert body["call_successful"] == "success"
    assert body["data_collection_results"]["best_day"]["value"] == "Friday"
    assert body["data_collection_results"]["best_day"]["json_schema"]["type"] == "string"
    velox = body["velox"]
    assert (velox["status"], velox["outcome"], velox["sentiment"]) == (
        "done",
        "meeting_booked",
        "positive",
    )
    assert velox["analyzed_by"] == "scripted"
    assert velox["notes"]["model_errors"] == ["down: down: HTTP 503: unavailable"]
    assert velox["metrics"]["talk_time_secs"] == {"agent": 3.2, "user": 1.5}
    assert velox["metrics"]["voice_to_voice_ms"]["p50"] == 800.0
    [delivery] = [d for d in deliveries if d.event_type == "analysis_ready"]
    assert delivery.payload["data"]["conversation_id"] == call_id
    assert delivery.payload["data"]["analysis"]["velox"]["outcome"] == "meeting_booked"


def test_a_caller_who_says_remove_me_is_put_on_the_do_not_call_list(database: Database) -> None:
    organization_id, agent_id = organization(database)
    store_call(database, organization_id, agent_id, "Please remove me from your list.")
    registry, _ = registry_with(reply("not_interested"))

    analyse(database, registry)
    with database.session() as session:
        listed = do_not_call.do_not_call_among(session, organization_id, [LEAD])
    assert listed == {LEAD}


def campaign_call(
    database: Database, organization_id: str, agent_id: str, owner_user_id: str | None = None
) -> tuple[str, str]:
    """A running campaign of one lead (given to `owner_user_id`, if any), dialed: its campaign
    id and conversation id."""
    with database.session() as session:
        number = number_queries.create_phone_number(
            session, organization_id, phone_number="+12125550100", label="", provider="twilio"
        )
        plan = CampaignSettings.model_validate(
            {"retry": {"rules": {"call_back": {"delay_minutes": 60, "max_attempts": 3}}}}
        )
        campaign = rows.create_campaign(
            session,
            organization_id,
            name="c",
            agent_id=agent_id,
            phone_number_id=number.id,
            state=CampaignState.DRAFT.value,
            settings=plan.model_dump(mode="json"),
        )
        lead = rows.NewLead(LEAD, None, {}, owner_user_id=owner_user_id)
        rows.add_leads(session, campaign, [lead], max_leads=10)
        campaign_runs.change_state(session, campaign, CampaignState.SCHEDULED)
        campaign_runs.change_state(session, campaign, CampaignState.RUNNING)
        campaign_id = campaign.id
    with database.session() as session:
        [attempt_id] = campaign_runs.tick_campaign(session, campaign_id, NOON_UTC).claimed
    with database.session() as session:
        order = campaign_runs.begin_dial(session, attempt_id)
        assert order is not None
        call_queries.create_call(
            session,
            organization_id,
            agent_id=agent_id,
            direction="outbound",
            channel="twilio",
            to_number=LEAD,
            call_id=order.conversation_id,
        )
        campaign_runs.record_dial(session, attempt_id, "CA" + "5" * 32, None, NOON_UTC)
    return campaign_id, order.conversation_id


def call_ends(database: Database, conversation_id: str) -> None:
    with database.session() as session:
        call_queries.record_status_callback(
            session, "CA" + "5" * 32, "completed", {}, call_id=conversation_id
        )
        assert campaign_outcomes.settle_ended_calls(session, NOON_UTC) == 1


def lead_state(database: Database, campaign_id: str) -> tuple[str | None, str, datetime | None]:
    with database.session() as session:
        [attempt] = attempt_rows.list_attempts(
            session, rows.campaign_by_id(session, campaign_id).organization_id, campaign_id
        )
        lead = rows.lead_by_id(session, attempt.lead_id)
        return attempt.outcome, lead.status, lead.due_at


def test_an_analysis_after_the_call_ended_refines_the_attempt_and_schedules_the_call_back(
    database: Database,
) -> None:
    organization_id, agent_id = organization(database)
    campaign_id, conversation_id = campaign_call(database, organization_id, agent_id)
    store_call(
        database, organization_id, agent_id, "Call me back next week.", call_id=conversation_id
    )
    call_ends(database, conversation_id)
    with database.session() as session:  # nothing left to dial: the campaign completes
        campaign_runs.tick_campaign(session, campaign_id, NOON_UTC)
        assert rows.campaign_by_id(session, campaign_id).state == CampaignState.COMPLETED.value
    assert lead_state(database, campaign_id)[:2] == ("completed", "finished")

    analyse(database, registry_with(reply("call_back"))[0])
    outcome, status, due_at = lead_state(database, campaign_id)
    assert (outcome, status) == ("call_back", "pending")
    assert due_at is not None
    assert due_at >= NOON_UTC + timedelta(minutes=60)
    with database.session() as session:  # reopened, so the call back will be dialed
        assert rows.campaign_by_id(session, campaign_id).state == CampaignState.RUNNING.value


def test_an_analysis_before_the_call_ended_gives_the_attempt_its_outcome(
    database: Database,
) -> None:
    organization_id, agent_id = organization(database)
    campaign_id, conversation_id = campaign_call(database, organization_id, agent_id)
    store_call(
        database,
        organization_id,
        agent_id,
        "Please remove me from your list.",
        call_id=conversation_id,
    )
    analyse(database, registry_with(reply("not_interested"))[0])
    call_ends(database, conversation_id)

    outcome, status, _ = lead_state(database, campaign_id)
    assert (outcome, status) == (Outcome.DO_NOT_CALL.value, "finished")
    with database.session() as session:
        assert do_not_call.do_not_call_among(session, organization_id, [LEAD]) == {LEAD}


def test_a_late_analysis_does_not_touch_a_lead_whose_next_attempt_has_begun(
    database: Database,
) -> None:
    organization_id, agent_id = organization(database)
    campaign_id, conversation_id = campaign_call(database, organization_id, agent_id)
    store_call(database, organization_id, agent_id, "Call me back.", call_id=conversation_id)
    call_ends(database, conversation_id)
    with database.session() as session:  # a retry of the lead is being dialed meanwhile
        [attempt] = attempt_rows.list_attempts(session, organization_id, campaign_id)
        lead = rows.lead_by_id(session, attempt.lead_id)
        lead.status, lead.attempts_made = "calling", 2

    analyse(database, registry_with(reply("call_back"))[0])
    outcome, status, due_at = lead_state(database, campaign_id)
    assert (outcome, status, due_at) == ("call_back", "calling", None)


def test_a_call_back_time_the_person_named_is_when_the_dialer_calls_again(
    database: Database,
) -> None:
    organization_id, agent_id = organization(database)
    campaign_id, conversation_id = campaign_call(database, organization_id, agent_id)
    store_call(
        database,
        organization_id,
        agent_id,
        "Call me back on Friday at three in the afternoon.",
        call_id=conversation_id,
    )
    call_ends(database, conversation_id)
    registry, model = registry_with(reply("call_back", call_back_at="2027-01-08T15:00"))
    analyse(database, registry)

    # The model reads the time named against the call's start in the lead's zone (New York,
    # from its number).
    with database.session() as session:
        call = call_queries.get_call(session, organization_id, conversation_id)
        assert call is not None
        started_at = call.started_at
    assert started_at is not None
    in_new_york = started_at.astimezone(ZoneInfo("America/New_York"))
    said = f"{in_new_york:%A %d %B %Y at %H:%M}, America/New_York time"
    assert said in model.asked[0][0].content
    friday_3pm = datetime(2027, 1, 8, 20, 0, tzinfo=UTC)
    assert lead_state(database, campaign_id) == ("call_back", "pending", friday_3pm)
    with database.session() as session:
        analysis = analysis_rows.analysis_of(session, conversation_id)
        assert analysis is not None
        assert analysis.call_back_at == friday_3pm


def test_a_call_back_time_before_the_call_is_not_taken(database: Database) -> None:
    organization_id, agent_id = organization(database)
    campaign_id, conversation_id = campaign_call(database, organization_id, agent_id)
    store_call(database, organization_id, agent_id, "Call me back.", call_id=conversation_id)
    call_ends(database, conversation_id)
    analyse(database, registry_with(reply("call_back", call_back_at="2020-01-05T15:00"))[0])

    _, status, due_at = lead_state(database, campaign_id)
    assert status == "pending"
    assert due_at == NOON_UTC + timedelta(minutes=60)  # the campaign's call-back rule
    with database.session() as session:
        analysis = analysis_rows.analysis_of(session, conversation_id)
        assert analysis is not None
        assert analysis.call_back_at is None
        assert analysis.notes["invalid_fields"] == ["call_back_at"]


def test_the_call_back_of_a_lead_with_an_owner_goes_on_the_owners_list(
    database: Database,
) -> None:
    organization_id, agent_id = organization(database)
    with database.session() as session:
        owner = people_rows.create_user(session, organization_id, "rep@acme.example", "field_agent")
        owner_id = owner.id
    campaign_id, conversation_id = campaign_call(database, organization_id, agent_id, owner_id)
    store_call(
        database, organization_id, agent_id, "Call me Friday at 3pm.", call_id=conversation_id
    )
    # The analysis first, then the call's end: the attempt takes the analysis' call back.
    analyse(database, registry_with(reply("call_back", call_back_at="2027-01-08T15:00"))[0])
    call_ends(database, conversation_id)

    outcome, status, due_at = lead_state(database, campaign_id)
    assert (outcome, status, due_at) == ("call_back", "finished", None)  # the dialer leaves it
    with database.session() as session:
        [(callback, lead)] = field_lead_rows.open_callbacks_of_owner(
            session, organization_id, owner_id, due_before=None, limit=10
        )
        assert callback.due_at == datetime(2027, 1, 8, 20, 0, tzinfo=UTC)
        assert (callback.source, callback.conversation_id) == ("call", conversation_id)
        assert "on the owner's list" in lead.finished_reason
