"""The campaign dialer on real PostgreSQL and Redis, with real Celery worker processes.

The service runs on a real port (campaigns, leads and the do-not-call list through its API;
Twilio's status callbacks, signed, to its webhook); the workers dial through the real `twilio`
client pointed at a local double of Twilio's REST API, which records every call it is asked to
place. Ticks are sent with a frozen `now`, so which leads are inside their windows is fixed.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elevenlabs import ElevenLabs
from elevenlabs.errors import BadRequestError
from sqlalchemy import select

from app.db.models import Call, utc_now
from app.db.session import Database
from tests.integration.dialer_service import (
    CALLER_ID,
    TICK,
    Dialer,
    new_york_numbers,
    webhook_receiver,
)

pytestmark = pytest.mark.integration

# Wednesday 6 January 2027, 16:00 UTC: 11:00 in New York, 08:00 in Los Angeles, 16:00 in London.
WEDNESDAY_4PM_UTC = datetime(2027, 1, 6, 16, 0, tzinfo=UTC)
NEW_YORK, LOS_ANGELES, LONDON = "+12122345678", "+14155552671", "+442079460958"
# A Redis broker that hands back a message whose worker died after 2 s (for the kill test).
SHORT_VISIBILITY_WORKER = """
import sys
from app.settings import get_settings
from workers.celery_app import make_celery

app = make_celery(get_settings())
app.conf.broker_transport_options = {
    "visibility_timeout": 2, "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
}
app.worker_main(["worker", "--concurrency=1", "--without-mingle", "--without-gossip",
                 "--loglevel=INFO", "--hostname=" + sys.argv[1] + "@%h"])
"""


def test_leads_are_dialed_only_inside_their_own_calling_window(dialer: Dialer) -> None:
    dialer.start_workers(1)
    campaign_id = dialer.campaign(
        [NEW_YORK, LOS_ANGELES, LONDON],
        calling_hours={day: ["09:00-19:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        max_concurrent_calls=10,
    )
    result = dialer.tick(WEDNESDAY_4PM_UTC)
    assert len(result["claimed"]) == 2
    assert result["waiting"] == 1

    dialed = dialer.wait_for_dials(2)
    dialer.settle()
    assert sorted(r.form["To"] for r in dialer.rest.created) == sorted([NEW_YORK, LONDON])
    assert LOS_ANGELES not in dialed
    for create in dialer.rest.created:
        assert create.form["From"] == CALLER_ID
        assert "/twilio/voice?conversation_id=conv_" in create.form["Url"]
        assert create.form["MachineDetection"] == "Enable"

    # At 17:00 UTC it is 09:00 in Los Angeles: its window opens.
    later = dialer.tick(WEDNESDAY_4PM_UTC.replace(hour=17))
    assert len(later["claimed"]) == 1
    assert dialer.wait_for_dials(3)[-1] == LOS_ANGELES
    progress = dialer.campaign_state(campaign_id)["progress"]
    assert (progress["leads_calling"], progress["attempts"]) == (3, 3)


def test_pacing_holds_concurrent_calls_and_calls_per_minute(dialer: Dialer) -> None:
    dialer.start_workers(1)
    numbers = new_york_numbers(6)
    campaign_id = dialer.campaign(numbers, max_concurrent_calls=2, calls_per_minute=3)

    assert len(dialer.tick(WEDNESDAY_4PM_UTC)["claimed"]) == 2
    assert dialer.tick(WEDNESDAY_4PM_UTC)["claimed"] == []  # two calls in progress
    first_two = dialer.wait_for_attempts(campaign_id, "dialed", 2)
    for attempt in first_two:
        dialer.twilio_reports(attempt, "completed", CallDuration="42")

    # Both calls ended: room for two, but only one more start fits in this minute.
    assert len(dialer.tick(WEDNESDAY_4PM_UTC)["claimed"]) == 1
    dialer.wait_for_dials(3)
    a_minute_later = WEDNESDAY_4PM_UTC.replace(minute=1, second=1)
    assert len(dialer.tick(a_minute_later)["claimed"]) == 1  # concurrency: 1 running + 1
    dialer.wait_for_dials(4)
    dialer.settle()
    assert len(dialer.rest.created) == 4
    outcomes = dialer.campaign_state(campaign_id)["progress"]["outcomes"]
    assert outcomes == {"completed": 2}


def test_four_workers_ticking_at_once_never_dial_a_lead_twice(dialer: Dialer) -> None:
    dialer.start_workers(4)
    numbers = new_york_numbers(40)
    campaign_id = dialer.campaign(numbers, max_concurrent_calls=100, calls_per_minute=5)

    # Ticks a minute apart each may start 5 calls; sent at once, they run on all four workers
    # together, each trying to claim from the same leads.
    results: list[dict[str, Any]] = []
    minute = 0
    while sum(len(r["claimed"]) for r in results) < 40 and minute < 60:
        burst = [
            dialer.celery.send_task(
                TICK,
                kwargs={"now": (WEDNESDAY_4PM_UTC + timedelta(minutes=minute + i)).isoformat()},
            )
            for i in range(8)
        ]
        results += [tick.get(timeout=60) for tick in burst]
        minute += 8
    claimed = [attempt for result in results for attempt in result["claimed"]]
    assert len(claimed) == 40
    assert len({r["worker_pid"] for r in results if r["claimed"]}) >= 2

    dialer.wait_for_dials(40, timeout=60)
    dialer.settle(2.0)
    assert Counter(r.form["To"] for r in dialer.rest.created) == Counter(numbers)
    attempts = dialer.attempts(campaign_id)
    assert len(attempts) == 40
    assert Counter(a["lead_id"] for a in attempts).most_common(1)[0][1] == 1
    assert {a["status"] for a in attempts} == {"dialed"}


def test_a_worker_killed_mid_dial_leaves_every_lead_dialed_exactly_once(
    dialer: Dialer, tmp_path: Path
) -> None:
    command = [sys.executable, "-c", SHORT_VISIBILITY_WORKER]
    [first] = dialer.start_workers(1, command)
    numbers = new_york_numbers(4)
    campaign_id = dialer.campaign(numbers, max_concurrent_calls=10)
    dialer.rest.create_delay_s = 2.0  # Twilio is slow to answer: the dial is killed midway

    assert len(dialer.tick(WEDNESDAY_4PM_UTC)["claimed"]) == 4
    dialer.wait_for_dials(1)  # the first dial has reached Twilio ...
    first.kill()  # ... and its worker dies before Twilio answers
    dialer.rest.create_delay_s = 0.0

    dialer.start_workers(1, command)  # the rest of the queue, and the dial redelivered
    dialer.wait_for_dials(4, timeout=30)
    # The killed dial is mended once it is surely dead (twice the dial time limit, plus 5 s).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dialer.tick(WEDNESDAY_4PM_UTC)
        statuses = Counter(a["status"] for a in dialer.attempts(campaign_id))
        if statuses["dialing"] == 0:
            break
        time.sleep(1.0)
    dialer.settle()

    assert Counter(r.form["To"] for r in dialer.rest.created) == Counter(numbers)
    attempts = dialer.attempts(campaign_id)
    assert len(attempts) == 4
    assert Counter(a["status"] for a in attempts) == {"dialed": 3, "ended": 1}
    [interrupted] = [a for a in attempts if a["status"] == "ended"]
    assert "not dialed again" in interrupted["detail"]


def test_retries_follow_the_policy_and_the_do_not_call_list_is_never_dialed(
    dialer: Dialer,
) -> None:
    dialer.start_workers(1)
    blocked, mid_campaign, retried = new_york_numbers(3)
    dialer.api("POST", "/v1/do-not-call", json={"phone_number": blocked})
    campaign_id = dialer.campaign(
        [blocked, mid_campaign, retried],
        max_concurrent_calls=5,
        retry={
            "max_total_attempts": 5,
            "rules": {"no_answer": {"delay_minutes": 0, "max_attempts": 2}},
        },
    )
    first = dialer.tick(WEDNESDAY_4PM_UTC)
    assert len(first["claimed"]) == 2
    assert first["skipped"] == 1  # on the do-not-call list
    attempts = dialer.wait_for_attempts(campaign_id, "dialed", 2)
    for attempt in attempts:
        dialer.twilio_reports(attempt, "no-answer")

    # The manager adds the second lead to the list while its retry waits.
    dialer.api("POST", "/v1/do-not-call", json={"phone_number": mid_campaign})
    second = dialer.tick(WEDNESDAY_4PM_UTC)
    assert len(second["claimed"]) == 1
    [retry] = [a for a in dialer.wait_for_attempts(campaign_id, "dialed", 1) if a["number"] == 2]
    dialer.twilio_reports(retry, "no-answer")

    third = dialer.tick(WEDNESDAY_4PM_UTC)  # no_answer twice: the policy's two attempts are used
    assert third["claimed"] == []
    dialer.settle()
    dialed = Counter(r.form["To"] for r in dialer.rest.created)
    assert dialed == Counter({retried: 2, mid_campaign: 1})
    assert blocked not in dialed
    state = dialer.campaign_state(campaign_id)
    assert state["state"] == "completed"
    assert state["progress"]["outcomes"] == {"no_answer": 3}


def test_a_leads_file_with_bad_rows_imports_the_good_ones_and_reports_the_bad(
    dialer: Dialer,
) -> None:
    body = {
        "name": "Import",
        "agent_id": dialer.agent_id,
        "agent_phone_number_id": dialer.number_id,
        "settings": {"default_region": "US"},
    }
    campaign_id = dialer.api("POST", "/v1/campaigns", json=body).json()["campaign_id"]
    csv = (
        "Phone Number,Company Name,timezone\n"
        "+12122345678,Acme,America/New_York\n"
        "not a number,Broken,\n"
        "(415) 555-2671,West,\n"
        "+12122345678,Again,\n"
        "+44 20 7946 0958,London Ltd,Mars/Olympus\n"
    )
    uploaded = dialer.api("POST", f"/v1/campaigns/{campaign_id}/leads", content=csv).json()
    assert uploaded["imported"] == 2
    assert uploaded["rejected"] == 3
    lines = {row["line"]: row["reason"] for row in uploaded["rejected_rows"]}
    assert set(lines) == {3, 5, 6}
    assert "duplicate" in lines[5]
    assert "Mars/Olympus" in lines[6]
    progress = dialer.campaign_state(campaign_id)["progress"]
    assert progress["leads_total"] == 2


def test_a_hundred_thousand_leads_import_in_one_upload(dialer: Dialer) -> None:
    body = {
        "name": "Big list",
        "agent_id": dialer.agent_id,
        "agent_phone_number_id": dialer.number_id,
    }
    campaign_id = dialer.api("POST", "/v1/campaigns", json=body).json()["campaign_id"]
    numbers = new_york_numbers(100_000)
    csv = "phone_number,first_name,plan\n" + "".join(f"{n},Ada,gold\n" for n in numbers)
    started = time.monotonic()
    uploaded = dialer.api("POST", f"/v1/campaigns/{campaign_id}/leads", content=csv).json()
    elapsed = time.monotonic() - started
    assert (uploaded["imported"], uploaded["rejected"]) == (100_000, 0)
    assert elapsed < 120, f"100k leads took {elapsed:.0f} s"  # a generous sanity bound
    assert dialer.campaign_state(campaign_id)["progress"]["leads_total"] == 100_000


def test_the_sdk_drives_a_batch_call_through_dialing_results_and_retry(dialer: Dialer) -> None:
    dialer.start_workers(1)
    client = ElevenLabs(api_key=dialer.api_key, base_url=dialer.base_url)
    numbers = new_york_numbers(3)
    batch = client.conversational_ai.batch_calls.create(
        call_name="Renewals",
        agent_id=dialer.agent_id,
        agent_phone_number_id=dialer.number_id,
        recipients=[
            {
                "id": f"crm-{i}",
                "phone_number": number,
                "conversation_initiation_client_data": {"dynamic_variables": {"plan": f"p{i}"}},
            }
            for i, number in enumerate(numbers)
        ],
        target_concurrency_limit=3,
    )
    assert (batch.status, batch.total_calls_scheduled) == ("in_progress", 3)

    assert len(dialer.tick(utc_now())["claimed"]) == 3
    attempts = dialer.wait_for_attempts(batch.id, "dialed", 3)
    by_number = {r.form["To"]: r for r in dialer.rest.created}
    assert set(by_number) == set(numbers)
    database = Database(dialer.settings.resolved_database_url())
    with database.session() as session:
        calls = session.scalars(select(Call).where(Call.direction == "outbound")).all()
        assert sorted(c.initiation["dynamic_variables"]["plan"] for c in calls if c.initiation) == [
            "p0",
            "p1",
            "p2",
        ]
    database.dispose()

    results = {numbers[0]: "completed", numbers[1]: "no-answer", numbers[2]: "busy"}
    number_of = {
        r.form["Url"].split("conversation_id=")[1]: r.form["To"] for r in by_number.values()
    }
    for attempt in attempts:
        dialer.twilio_reports(attempt, results[number_of[attempt["conversation_id"]]])
    dialer.tick(utc_now())

    detail = client.conversational_ai.batch_calls.get(batch.id)
    assert detail.status == "completed"
    statuses = {r.phone_number: r.status for r in detail.recipients}
    assert statuses == {numbers[0]: "completed", numbers[1]: "failed", numbers[2]: "failed"}
    assert {r.id for r in detail.recipients} == {"crm-0", "crm-1", "crm-2"}
    assert all(r.conversation_id for r in detail.recipients)

    retried = client.conversational_ai.batch_calls.retry(batch.id)
    assert (retried.status, retried.retry_count) == ("in_progress", 1)
    assert len(dialer.tick(utc_now())["claimed"]) == 2
    dialer.wait_for_dials(5)
    dialer.settle()
    assert Counter(r.form["To"] for r in dialer.rest.created) == Counter(
        {numbers[0]: 1, numbers[1]: 2, numbers[2]: 2}
    )
    listed = client.conversational_ai.batch_calls.list()
    assert [b.id for b in listed.batch_calls] == [batch.id]

    cancelled = client.conversational_ai.batch_calls.cancel(batch.id)
    assert cancelled.status == "cancelled"


def test_webhooks_reach_the_business_signed_and_are_retried_after_a_500(dialer: Dialer) -> None:
    dialer.start_workers(1)
    client = ElevenLabs(api_key=dialer.api_key, base_url=dialer.base_url)
    with webhook_receiver(failures=1) as receiver:
        created = client.webhooks.create(
            settings={"auth_type": "hmac", "name": "CRM", "webhook_url": receiver.url}
        )
        assert created.webhook_secret
        [listed] = client.webhooks.list().webhooks
        assert (listed.webhook_id, listed.webhook_url) == (created.webhook_id, receiver.url)

        lead = new_york_numbers(1)[0]
        campaign_id = dialer.campaign([lead])
        dialer.tick(WEDNESDAY_4PM_UTC)
        [attempt] = dialer.wait_for_attempts(campaign_id, "dialed", 1)
        dialer.twilio_reports(attempt, "no-answer")
        assert dialer.tick(WEDNESDAY_4PM_UTC)["completed"] == [campaign_id]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            dialer.celery.send_task("workers.webhooks.deliver").get(timeout=30)
            if sum(answer == 200 for _, _, answer in receiver.received) >= 2:
                break
            time.sleep(0.3)

    delivered = [(body, headers) for body, headers, answer in receiver.received if answer == 200]
    events = [
        client.webhooks.construct_event(
            body, headers["ElevenLabs-Signature"], created.webhook_secret
        )
        for body, headers in delivered
    ]
    assert sorted(e["type"] for e in events) == ["call_ended", "campaign_completed"]
    ended = next(e for e in events if e["type"] == "call_ended")
    assert ended["data"]["conversation_id"] == attempt["conversation_id"]
    assert ended["data"]["termination_reason"] == "twilio call status: no-answer"
    completed = next(e for e in events if e["type"] == "campaign_completed")
    assert completed["data"]["outcomes"] == {"no_answer": 1}

    first_body, first_headers, first_answer = receiver.received[0]
    assert first_answer == 500
    retried = [body for body, _, _ in receiver.received[1:] if body == first_body]
    assert retried, "the event answered with 500 was sent again"
    assert first_headers["Velox-Delivery"] == json.loads(first_body)["event_id"]
    with pytest.raises(BadRequestError):
        client.webhooks.construct_event(first_body, first_headers["ElevenLabs-Signature"], "wrong")

    log = dialer.api("GET", f"/v1/workspace/webhooks/{created.webhook_id}/deliveries").json()
    by_id = {d["delivery_id"]: d for d in log["deliveries"]}
    first = by_id[json.loads(first_body)["event_id"]]
    assert (first["status"], first["attempts"], first["last_status_code"]) == ("delivered", 2, 200)
    assert {d["status"] for d in log["deliveries"]} == {"delivered"}
