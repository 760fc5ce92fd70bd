"""Calls placed over a SIP trunk with real sipp as the callee: answered and hung up by the callee,
busy, let ring until our CANCEL, and a trunk that challenges (right and wrong password)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.config.credentials import CredentialBox
from app.config.sip_trunks import OutboundTrunkConfig, stored_outbound
from app.db.models import Call, PhoneNumber
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import agent_config
from tests.e2e.voice_service import SIP_NUMBER, VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.live_server import free_port

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"
CALLEE = "+14155552671"


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    stt = ScriptedSpeechToText([])
    llm = ScriptedLanguageModel(lambda messages: "Sure.")
    with voice_service(
        tmp_path, config=agent_config(), stt=stt, llm=llm, tts=ToneTextToSpeech(), sip=True
    ) as running:
        yield running


class Callee:
    """sipp as the callee on `port`, running `scenario` in the foreground of its thread, over
    UDP (`-t u1`) or TCP (`-t t1`)."""

    def __init__(
        self, service: VoiceService, scenario: str, work_dir: Path, transport: str = "u1"
    ) -> None:
        self.port = free_port()
        self.result: subprocess.CompletedProcess[str] | None = None
        self.work_dir = work_dir
        self._kind = socket.SOCK_STREAM if transport == "t1" else socket.SOCK_DGRAM
        arguments = ["-sf", str(SCENARIOS / scenario), "-m", "1", "-trace_msg", "-t", transport]
        self._thread = threading.Thread(
            target=self._run, args=(service.sip_port, arguments), daemon=True
        )
        self._thread.start()
        self._wait_listening()

    def _run(self, service_port: int, arguments: list[str]) -> None:
        self.result = run_sipp(
            service_port, arguments, self.work_dir, timeout_s=30, sip_port=self.port
        )

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, self._kind) as probe:
                try:
                    probe.bind(("127.0.0.1", self.port))
                except OSError:
                    return  # sipp holds it
            time.sleep(0.05)
        raise AssertionError("sipp did not start listening within 10 s")

    def finish(self) -> subprocess.CompletedProcess[str]:
        self._thread.join(timeout=60)
        assert self.result is not None, "sipp did not end within 60 s"
        return self.result

    def messages(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.work_dir.glob("*_messages.log"))


def set_outbound_trunk(
    service: VoiceService, port: int, password: str = "", transport: str = "udp"
) -> str:
    config: dict[str, Any] = {"address": f"127.0.0.1:{port}", "transport": transport}
    config["headers"] = {"X-Velox-Test": "outbound"}
    if password:
        config["credentials"] = {"username": "trunk", "password": password}
    box = CredentialBox(service.settings.signing_secret())
    stored = stored_outbound(OutboundTrunkConfig.model_validate(config), None, box)
    with service.database.session() as session:
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.phone_number == SIP_NUMBER))
        assert number is not None
        number.outbound_trunk = stored
        return number.id


def place(service: VoiceService, number_id: str, **extra: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{service.base_url}/v1/convai/sip-trunk/outbound-call",
        json={
            "agent_id": service.agent_id,
            "agent_phone_number_id": number_id,
            "to_number": CALLEE,
            **extra,
        },
        headers=service.headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_ended(service: VoiceService, conversation_id: str, timeout: float = 20.0) -> Call:
    deadline = time.monotonic() + timeout
    while True:
        with service.database.session() as session:
            call = session.scalar(select(Call).where(Call.id == conversation_id))
            assert call is not None
            if call.status in ("done", "failed") or time.monotonic() > deadline:
                session.expunge(call)
                return call
        time.sleep(0.1)


def test_a_placed_call_is_answered_and_the_callee_hangs_up(
    service: VoiceService, tmp_path: Path
) -> None:
    callee = Callee(service, "uas_answer.xml", tmp_path)
    number_id = set_outbound_trunk(service, callee.port)
    placed = place(service, number_id)
    assert placed["success"] is True
    assert placed["sip_call_id"]
    result = callee.finish()
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    call = wait_ended(service, placed["conversation_id"])
    assert call.status == "done"
    assert call.channel == "sip"
    assert call.direction == "outbound"
    assert call.termination_reason == "caller_hung_up"
    assert call.provider_call_sid == placed["sip_call_id"]
    invite = callee.messages()
    assert f"INVITE sip:{CALLEE}@127.0.0.1:{callee.port} SIP/2.0" in invite
    assert "X-Velox-Test: outbound" in invite
    body = service.conversation(call.id)
    assert body["velox"]["channel"] == "sip"
    # The call's SIP messages are kept with it, in the order they went.
    logged = httpx.get(
        f"{service.base_url}/v1/convai/conversations/{call.id}/sip-messages",
        headers=service.headers,
        timeout=10,
    ).json()["sip_messages"]
    firsts = [(m["direction"], m["raw_message"].split(" ", 2)[:2]) for m in logged]
    assert firsts == [
        ("out", ["INVITE", f"sip:{CALLEE}@127.0.0.1:{callee.port}"]),
        ("in", ["SIP/2.0", "180"]),
        ("in", ["SIP/2.0", "200"]),
        ("out", ["ACK", "sip:callee@127.0.0.1:" + str(callee.port)]),
        ("in", ["BYE", firsts[4][1][1]]),
        ("out", ["SIP/2.0", "200"]),
    ]
    assert {m["call_id"] for m in logged} == {placed["sip_call_id"]}
    assert logged[0]["remote_address"] == f"127.0.0.1:{callee.port}"


def test_a_busy_callee_ends_the_call_busy_with_the_reason(
    service: VoiceService, tmp_path: Path
) -> None:
    callee = Callee(service, "uas_busy.xml", tmp_path)
    number_id = set_outbound_trunk(service, callee.port)
    placed = place(service, number_id)
    result = callee.finish()  # it ends only once our ACK of the 486 came
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    call = wait_ended(service, placed["conversation_id"])
    assert call.status == "failed"
    assert call.termination_reason == "busy: 486 Busy Here"


def test_a_call_ringing_past_its_timeout_is_cancelled(
    service: VoiceService, tmp_path: Path
) -> None:
    callee = Callee(service, "uas_ring.xml", tmp_path)
    number_id = set_outbound_trunk(service, callee.port)
    started = time.monotonic()
    placed = place(service, number_id, telephony_call_config={"ringing_timeout_secs": 5})
    result = callee.finish()  # CANCEL, 200, 487 and our ACK
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    call = wait_ended(service, placed["conversation_id"])
    assert call.status == "failed"
    assert call.termination_reason == "no_answer: no answer within 5 s"
    assert 4.5 < time.monotonic() - started < 15


def test_a_challenging_trunk_gets_the_credentials(service: VoiceService, tmp_path: Path) -> None:
    callee = Callee(service, "uas_digest.xml", tmp_path)
    number_id = set_outbound_trunk(service, callee.port, password="right-pass")
    placed = place(service, number_id)
    result = callee.finish()
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    call = wait_ended(service, placed["conversation_id"])
    assert call.status == "done"
    assert "Authorization: Digest" in callee.messages()
    assert "right-pass" not in callee.messages()


def test_a_wrong_trunk_password_fails_the_call_with_the_reason(
    service: VoiceService, tmp_path: Path
) -> None:
    callee = Callee(service, "uas_digest.xml", tmp_path)
    number_id = set_outbound_trunk(service, callee.port, password="wrong-pass")
    placed = place(service, number_id)
    result = callee.finish()  # it ends only once our ACK of the 403 came
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    call = wait_ended(service, placed["conversation_id"])
    assert call.status == "failed"
    assert call.termination_reason == "failed: 403 Wrong Password"


def test_a_number_without_an_outbound_trunk_is_refused(service: VoiceService) -> None:
    with service.database.session() as session:
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.phone_number == SIP_NUMBER))
        assert number is not None
        number_id = number.id
    response = httpx.post(
        f"{service.base_url}/v1/convai/sip-trunk/outbound-call",
        json={
            "agent_id": service.agent_id,
            "agent_phone_number_id": number_id,
            "to_number": CALLEE,
        },
        headers=service.headers,
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json()["detail"]["status"] == "no_outbound_trunk"
