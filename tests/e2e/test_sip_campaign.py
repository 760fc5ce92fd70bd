"""A campaign whose number is a SIP trunk: the dialer's worker queues each lead's call, the
serving node places it as an INVITE to the trunk (real sipp), and the trunk's answers become
the leads' outcomes and retries as a Twilio call's status would. PostgreSQL, Redis and a real
Celery worker process; the ticks are sent by the test."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from celery import Celery
from sqlalchemy import select

from app.db.models import Call, CampaignLead, PhoneNumber, Turn
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import GREETING, agent_config
from tests.e2e.test_sip_outbound_call import set_outbound_trunk
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.integration.dialer_service import TICK, new_york_numbers
from tests.integration.worker_processes import Worker, flushed_redis, start_worker
from tests.live_server import free_port
from tests.redis_dbs import redis_url
from workers.celery_app import make_celery

if TYPE_CHECKING:
    from tests.conftest import PostgresDatabases

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).parent / "sipp" / "uas_campaign.xml"
# A Redis database of its own (campaign pages 12, live calls 13, the dialer 14, workers 15).
REDIS_URL = redis_url(10)
# Wednesday 6 January 2027, 16:00 UTC: 11:00 in New York, inside the default calling hours.
WEDNESDAY_4PM_UTC = datetime(2027, 1, 6, 16, 0, tzinfo=UTC)
# The trunk's scenario tells the leads apart by their last two digits.
CALLER_ID = "+12125550100"
BUSY, AWAY, UNKNOWN, ANSWERS = new_york_numbers(4, first=2000101)


class Trunk:
    """sipp as the trunk on a fixed port, taking `calls` calls in its thread's foreground."""

    def __init__(self, port: int, calls: int, work_dir: Path) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir = work_dir
        self.result: subprocess.CompletedProcess[str] | None = None
        arguments = ["-sf", str(SCENARIO), "-m", str(calls), "-trace_msg"]
        self._thread = threading.Thread(
            target=self._run, args=(port, arguments), daemon=True, name="trunk"
        )
        self._thread.start()
        time.sleep(0.5)  # sipp binds at once; the first INVITE comes after a tick and a dial

    def _run(self, port: int, arguments: list[str]) -> None:
        # sipp as a callee sends nothing first: the remote address given is never used.
        self.result = run_sipp(port, arguments, self.work_dir, timeout_s=60, sip_port=port)

    def finish(self) -> None:
        self._thread.join(timeout=90)
        assert self.result is not None, "sipp did not end within 90 s"
        assert self.result.returncode == 0, (
            self.result.stdout[-2000:],
            sipp_errors(self.work_dir),
        )


@dataclass
class SipCampaign:
    service: VoiceService
    celery: Celery
    worker: Worker
    number_id: str
    trunk_port: int

    def api(self, method: str, path: str, **options: Any) -> Any:
        response = httpx.request(
            method,
            f"{self.service.base_url}{path}",
            headers=self.service.headers,
            timeout=30,
            **options,
        )
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def tick(self, now: datetime) -> dict[str, Any]:
        result: dict[str, Any] = self.celery.send_task(TICK, kwargs={"now": now.isoformat()}).get(
            timeout=30
        )
        return result

    def calls(self) -> list[Call]:
        with self.service.database.session() as session:
            found = list(session.scalars(select(Call).where(Call.direction == "outbound")))
            session.expunge_all()
            return found

    def wait_ended(self, count: int, timeout: float = 30.0) -> list[Call]:
        """The outbound calls, once `count` have ended and carry their carrier status."""
        deadline = time.monotonic() + timeout
        while True:
            ended = [c for c in self.calls() if c.status in ("done", "failed")]
            final = [
                c
                for c in ended
                if c.provider_status in ("completed", "busy", "no-answer", "failed")
            ]
            if len(final) >= count:
                return final
            assert time.monotonic() < deadline, (
                [(c.to_number, c.status, c.provider_status) for c in self.calls()],
                self.worker.log.read_text(errors="replace")[-2000:],
            )
            time.sleep(0.1)


@pytest.fixture
def sip_campaign(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[SipCampaign]:
    url = postgres_databases.create()
    stt = ScriptedSpeechToText([])
    llm = ScriptedLanguageModel(lambda messages: "Sure.")
    with (
        flushed_redis(REDIS_URL),
        voice_service(
            tmp_path,
            config=agent_config(),
            stt=stt,
            llm=llm,
            tts=ToneTextToSpeech(),
            sip=True,
            database_url=url,
        ) as service,
    ):
        trunk_port = free_port()
        number_id = set_outbound_trunk(service, trunk_port)
        with service.database.session() as session:  # a dialable caller ID for the campaign
            number = session.scalars(select(PhoneNumber).where(PhoneNumber.id == number_id)).one()
            number.phone_number = CALLER_ID
        settings = service.settings.model_copy(
            update={"broker_url": REDIS_URL, "result_backend": REDIS_URL}
        )
        velox = str(Path(sys.executable).with_name("velox"))
        worker = start_worker(
            [velox, "worker", "--no-beat", "--concurrency=1"], settings, tmp_path / "worker.log"
        )
        celery = make_celery(settings)
        try:
            yield SipCampaign(service, celery, worker, number_id, trunk_port)
        finally:
            worker.stop()
            celery.close()


def test_a_campaign_dials_its_leads_over_the_sip_trunk(
    sip_campaign: SipCampaign, tmp_path: Path
) -> None:
    run = sip_campaign
    campaign_id = run.api(
        "POST",
        "/v1/campaigns",
        json={
            "name": "Renewals over the trunk",
            "agent_id": run.service.agent_id,
            "agent_phone_number_id": run.number_id,
            "settings": {
                "max_concurrent_calls": 4,
                "retry": {
                    "max_total_attempts": 3,
                    "rules": {
                        "busy": {"delay_minutes": 30, "max_attempts": 2},
                        "no_answer": {"delay_minutes": 60, "max_attempts": 2},
                    },
                },
            },
        },
    )["campaign_id"]
    csv = "phone_number,customer_id\n" + "".join(
        f"{n},C{i}\n" for i, n in enumerate((BUSY, AWAY, UNKNOWN, ANSWERS))
    )
    assert run.api("POST", f"/v1/campaigns/{campaign_id}/leads", content=csv)["imported"] == 4
    run.api("POST", f"/v1/campaigns/{campaign_id}/start")

    trunk = Trunk(run.trunk_port, 4, tmp_path / "round1")
    first = run.tick(WEDNESDAY_4PM_UTC)
    assert len(first["claimed"]) == 4, run.worker.log.read_text(errors="replace")[-3000:]
    trunk.finish()
    calls = {c.to_number: c for c in run.wait_ended(4)}
    assert run.tick(WEDNESDAY_4PM_UTC)["ended"] == 4

    assert {n: (c.channel, c.status, c.provider_status) for n, c in calls.items()} == {
        BUSY: ("sip", "failed", "busy"),
        AWAY: ("sip", "failed", "no-answer"),
        UNKNOWN: ("sip", "failed", "failed"),
        ANSWERS: ("sip", "done", "completed"),
    }
    assert calls[BUSY].termination_reason == "busy: 486 Busy Here"
    assert calls[AWAY].termination_reason == "no_answer: 480 Temporarily Unavailable"
    assert calls[UNKNOWN].termination_reason == "failed: 404 Not Found"
    with run.service.database.session() as session:
        said = session.scalars(
            select(Turn.message).where(Turn.call_id == calls[ANSWERS].id, Turn.role == "agent")
        ).all()
        leads = {lead.phone_number: lead for lead in session.scalars(select(CampaignLead))}
        state = {n: (lead.status, lead.last_outcome, lead.due_at) for n, lead in leads.items()}
    assert GREETING in said
    # The lead's variables went with its call, as a Twilio call's do.
    initiation = calls[ANSWERS].initiation
    assert initiation is not None
    assert initiation["dynamic_variables"]["customer_id"] == "C3"
    attempts = {
        a["conversation_id"]: a for a in run.api("GET", f"/v1/campaigns/{campaign_id}/attempts")
    }
    outcomes = {n: attempts[c.id]["outcome"] for n, c in calls.items()}
    assert outcomes == {BUSY: "busy", AWAY: "no_answer", UNKNOWN: "failed", ANSWERS: "completed"}
    assert {attempts[c.id]["call_sid"] for c in calls.values()} == {
        c.provider_call_sid for c in calls.values()
    }
    assert state[BUSY] == ("pending", "busy", WEDNESDAY_4PM_UTC + timedelta(minutes=30))
    assert state[AWAY] == ("pending", "no_answer", WEDNESDAY_4PM_UTC + timedelta(minutes=60))
    assert state[UNKNOWN][:2] == ("finished", "failed")
    assert state[ANSWERS][:2] == ("finished", "completed")

    # Half an hour on, the busy lead is dialed again over the trunk, and busy again: its rule's
    # two attempts are used, so it is finished; the unreachable one still waits.
    trunk = Trunk(run.trunk_port, 1, tmp_path / "round2")
    later = WEDNESDAY_4PM_UTC + timedelta(minutes=31)
    assert len(run.tick(later)["claimed"]) == 1
    trunk.finish()
    run.wait_ended(5)
    assert run.tick(later)["ended"] == 1
    with run.service.database.session() as session:
        lead = session.scalars(select(CampaignLead).where(CampaignLead.phone_number == BUSY)).one()
        assert (lead.status, lead.last_outcome, lead.attempts_made) == ("finished", "busy", 2)
    progress = run.api("GET", f"/v1/campaigns/{campaign_id}")["progress"]
    assert progress["outcomes"] == {"busy": 2, "no_answer": 1, "failed": 1, "completed": 1}
