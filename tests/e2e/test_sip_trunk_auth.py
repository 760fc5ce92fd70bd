"""Who may call a SIP-trunk number in: its allowed addresses (403), its digest credentials (401
challenge answered by real sipp, 403 for a wrong password) and its allowed caller numbers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.config.credentials import CredentialBox
from app.config.sip_trunks import InboundTrunkConfig, stored_inbound
from app.db.models import PhoneNumber
from app.observability.metrics import SIP_REFUSALS
from telephony.sip.message import SipResponse
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import agent_config, sip_calls, wait_saved
from tests.e2e.voice_service import SIP_NUMBER, VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.sip_caller import SipCaller

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    stt = ScriptedSpeechToText([])
    llm = ScriptedLanguageModel(lambda messages: "Sure.")
    with voice_service(
        tmp_path, config=agent_config(), stt=stt, llm=llm, tts=ToneTextToSpeech(), sip=True
    ) as running:
        yield running


def configure_trunk(service: VoiceService, **config: object) -> None:
    box = CredentialBox(service.settings.signing_secret())
    stored = stored_inbound(InboundTrunkConfig.model_validate(config), None, box)
    with service.database.session() as session:
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.phone_number == SIP_NUMBER))
        assert number is not None
        number.inbound_trunk = stored


def refusals(reason: str) -> float:
    value: float = SIP_REFUSALS.labels(reason=reason)._value.get()
    return value


async def test_a_caller_outside_the_allowed_addresses_is_403(service: VoiceService) -> None:
    configure_trunk(service, allowed_addresses=["192.0.2.0/24"])
    before = refusals("address_not_allowed")
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="outsider@127.0.0.1")
    try:
        caller.invite()
        refused = (await caller.wait_for(403)).message
        assert isinstance(refused, SipResponse)
        assert refused.reason == "Address not allowed for this number"
    finally:
        caller.close()
    assert sip_calls(service) == []
    assert refusals("address_not_allowed") == before + 1


async def test_a_caller_inside_the_allowed_addresses_is_answered(service: VoiceService) -> None:
    configure_trunk(service, allowed_addresses=["127.0.0.0/8"])
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="insider@127.0.0.1")
    try:
        caller.invite()
        await caller.wait_for(200)
        caller.ack()
        caller.bye()
        await caller.pump(0.3)
    finally:
        caller.close()
    (call,) = wait_saved(service, 1)
    assert call.status == "done"


async def test_a_caller_number_not_allowed_is_403(service: VoiceService) -> None:
    configure_trunk(service, allowed_numbers=["+15559990000"])
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="stranger@127.0.0.1")
    try:
        caller.invite()  # from +15552223333
        refused = (await caller.wait_for(403)).message
        assert refused.reason == "Caller number not allowed for this number"  # type: ignore[union-attr]
    finally:
        caller.close()
    assert sip_calls(service) == []


async def test_an_invite_without_credentials_is_challenged(service: VoiceService) -> None:
    configure_trunk(service, credentials={"username": "trunk", "password": "right-pass"})
    caller = SipCaller(service.sip_port, SIP_NUMBER, call_id="anonymous@127.0.0.1")
    try:
        caller.invite()
        challenge = (await caller.wait_for(401)).message
        header = challenge.header("WWW-Authenticate") or ""
        assert header.startswith('Digest realm="velox", nonce="')
        assert 'qop="auth"' in header
        assert challenge.to_tag
    finally:
        caller.close()
    assert sip_calls(service) == []


def digest_call(password: str, *extra: str) -> list[str]:
    scenario = str(SCENARIOS / "uac_digest.xml")
    number = SIP_NUMBER.lstrip("+")
    return ["-sf", scenario, "-s", number, "-au", "trunk", "-ap", password, "-m", "1", *extra]


def test_sipp_with_the_right_password_is_answered(service: VoiceService, tmp_path: Path) -> None:
    configure_trunk(service, credentials={"username": "trunk", "password": "right-pass"})
    result = run_sipp(
        service.sip_port,
        digest_call("right-pass"),
        tmp_path,
        timeout_s=30,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    (call,) = wait_saved(service, 1)
    assert call.status == "done"
    assert call.from_number == "+15551230000"
    # The call keeps its SIP messages from the INVITE that carried the credentials on.
    logged = httpx.get(
        f"{service.base_url}/v1/convai/conversations/{call.id}/sip-messages",
        headers=service.headers,
        timeout=10,
    ).json()["sip_messages"]
    assert logged[0]["direction"] == "in"
    assert logged[0]["raw_message"].startswith("INVITE ")
    assert "Authorization: Digest" in logged[0]["raw_message"]
    assert [m["raw_message"].split(" ", 1)[0] for m in logged if m["direction"] == "in"] == [
        "INVITE",
        "ACK",
        "BYE",
    ]


def test_sipp_with_a_wrong_password_is_refused_403(service: VoiceService, tmp_path: Path) -> None:
    configure_trunk(service, credentials={"username": "trunk", "password": "right-pass"})
    before = refusals("wrong_credentials")
    result = run_sipp(
        service.sip_port,
        digest_call("wrong-pass", "-trace_msg"),
        tmp_path,
        timeout_s=30,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    messages = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_messages.log"))
    assert "SIP/2.0 403 Wrong credentials" in messages
    assert refusals("wrong_credentials") == before + 1
    assert sip_calls(service) == []
