"""Outbound calls: the ElevenLabs SDK asks, the real `twilio` client dials a local Twilio double,
and the test plays Twilio's part from there (signed status callbacks, the TwiML fetch on answer,
the Media Streams socket, the answering-machine verdict)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError

from app.config.agent import AgentConfig
from app.outbound.calls import MachineDetection, OutboundCall
from telephony.twilio.outbound import place_outbound_call
from tests.e2e.twilio_rest_double import TwilioRestDouble, twilio_rest_double
from tests.e2e.voice_service import AGENT_NUMBER, VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

LEAD = "+14155552671"
ACCOUNT_SID = "AC" + "0" * 32


@contextmanager
def outbound_service(tmp_path: Path) -> Iterator[tuple[VoiceService, TwilioRestDouble, str]]:
    agent = AgentConfig(name="Sales")
    agent.conversation_config.agent.first_message = "Hi {{customer_name}}, this is Acme."
    agent.platform_settings.overrides.conversation_config_override = {
        "agent": {"first_message": True}
    }
    with (
        twilio_rest_double() as rest,
        voice_service(
            tmp_path,
            config=agent,
            stt=ScriptedSpeechToText(["Yes I am interested."]),
            llm=ScriptedLanguageModel(lambda messages: "Great, I will send the details."),
            tts=ToneTextToSpeech(),
            twilio_api_base_url=rest.base_url,
        ) as service,
    ):
        numbers = httpx.get(f"{service.base_url}/v1/convai/phone-numbers", headers=service.headers)
        [number] = [n for n in numbers.json() if n["phone_number"] == AGENT_NUMBER]
        yield service, rest, number["phone_number_id"]


def sdk(service: VoiceService) -> ElevenLabs:
    return ElevenLabs(api_key=service.api_key, base_url=service.base_url)


async def place(service: VoiceService, number_id: str, **options: Any) -> Any:
    """The ElevenLabs SDK asks Velox to call the lead."""
    return await asyncio.to_thread(
        sdk(service).conversational_ai.twilio.outbound_call,
        agent_id=service.agent_id,
        agent_phone_number_id=number_id,
        to_number=LEAD,
        **options,
    )


def twilio_posts(service: VoiceService, url: str, **form: str) -> httpx.Response:
    """A signed webhook POST, as Twilio sends it for the call."""
    params = {"AccountSid": ACCOUNT_SID, **form}
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": service.sign(url, params)})


def answer(service: VoiceService, url: str, call_sid: str) -> tuple[str, dict[str, str]]:
    """Twilio fetches the call's TwiML when the lead answers: the stream URL and parameters."""
    response = twilio_posts(
        service,
        url,
        CallSid=call_sid,
        From=AGENT_NUMBER,
        To=LEAD,
        Direction="outbound-api",
        CallStatus="in-progress",
    )
    response.raise_for_status()
    stream = ET.fromstring(response.text).find("./Connect/Stream")
    assert stream is not None, response.text
    return stream.attrib["url"], {p.attrib["name"]: p.attrib["value"] for p in stream}


def on_the_line(
    service: VoiceService, stream_url: str, parameters: dict[str, str], call_sid: str
) -> TwilioCaller:
    """The lead's phone, connected by Twilio to the answered call's Media Stream."""
    return TwilioCaller(
        stream_url,
        custom_parameters=parameters,
        call_sid=call_sid,
        headers=service.stream_headers(stream_url),
    )


def conversation(service: VoiceService, conversation_id: str) -> dict[str, Any]:
    return service.conversation(conversation_id)


async def test_the_sdk_places_a_call_that_is_answered_through_the_media_path(
    tmp_path: Path,
) -> None:
    with outbound_service(tmp_path) as (service, rest, number_id):
        placed = await place(
            service,
            number_id,
            conversation_initiation_client_data={
                "dynamic_variables": {"customer_name": "Ada", "plan": "gold"},
            },
            telephony_call_config={
                "ringing_timeout_secs": 25,
                "twilio_machine_detection": {
                    "mode": "detect_message_end",
                    "actions": [{"action": "hang_up", "answered_by": ["machine_end_beep"]}],
                },
            },
        )
        assert placed.success, placed.message
        assert placed.conversation_id
        assert placed.call_sid

        [create] = rest.created
        assert create.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
        assert create.authorization.startswith("Basic ")
        form = create.form
        assert (form["To"], form["From"], form["Timeout"]) == (LEAD, AGENT_NUMBER, "25")
        assert form["Url"].endswith(f"/twilio/voice?conversation_id={placed.conversation_id}")
        assert form["StatusCallback"].endswith(
            f"/twilio/status?conversation_id={placed.conversation_id}"
        )
        assert create.lists["StatusCallbackEvent"] == [
            "initiated",
            "ringing",
            "answered",
            "completed",
        ]
        assert (form["MachineDetection"], form["AsyncAmd"]) == ("DetectMessageEnd", "true")
        assert form["AsyncAmdStatusCallback"].endswith(
            f"/twilio/amd?conversation_id={placed.conversation_id}"
        )

        for status in ("initiated", "ringing"):
            callback = twilio_posts(
                service, form["StatusCallback"], CallSid=placed.call_sid, CallStatus=status
            )
            assert callback.status_code == 204
        stream_url, parameters = answer(service, form["Url"], placed.call_sid)
        assert parameters["conversation_id"] == placed.conversation_id
        assert (parameters["customer_name"], parameters["plan"]) == ("Ada", "gold")

        async with on_the_line(service, stream_url, parameters, placed.call_sid) as caller:
            await caller.silence(0.2)
            await caller.wait_for_audio(timeout=3)
            verdict = twilio_posts(
                service,
                form["AsyncAmdStatusCallback"],
                CallSid=placed.call_sid,
                AnsweredBy="human",
                MachineDetectionDuration="2140",
            )
            assert verdict.status_code == 204
            await caller.silence(1.0)
        body = service.ended_conversation(placed.conversation_id)

    assert body["status"] == "done"
    assert body["transcript"][0]["message"] == "Hi Ada, this is Acme."
    assert body["metadata"]["phone_call"]["direction"] == "outbound"
    assert body["metadata"]["phone_call"]["external_number"] == LEAD
    assert body["metadata"]["phone_call"]["call_sid"] == placed.call_sid
    assert len(rest.requests) == 1  # a person answered: nobody hung up


async def test_a_machine_verdict_in_the_hang_up_rules_hangs_the_call_up(tmp_path: Path) -> None:
    with outbound_service(tmp_path) as (service, rest, number_id):
        placed = await place(
            service,
            number_id,
            telephony_call_config={
                "twilio_machine_detection": {
                    "mode": "enable",
                    "actions": [{"answered_by": ["machine_start", "fax"]}],
                },
            },
        )
        assert placed.success
        assert placed.call_sid
        amd_url = rest.created[0].form["AsyncAmdStatusCallback"]
        verdict = twilio_posts(
            service, amd_url, CallSid=placed.call_sid, AnsweredBy="machine_start"
        )
        assert verdict.status_code == 204
        hang_up = rest.requests[-1]
        assert hang_up.path.endswith(f"/Calls/{placed.call_sid}.json")
        assert hang_up.form == {"Status": "completed"}

        no_answer = twilio_posts(
            service,
            rest.created[0].form["StatusCallback"],
            CallSid=placed.call_sid,
            CallStatus="completed",
            CallDuration="0",
        )
        assert no_answer.status_code == 204
        body = service.ended_conversation(placed.conversation_id)
    assert body["status"] == "done"
    assert body["velox"]["answered_by"] == "machine_start"
    [verdict_event] = [
        e for e in body["velox"]["events"] if e["kind"] == "answering_machine_detection"
    ]
    assert verdict_event["data"]["answered_by"] == "machine_start"


async def test_a_machine_whose_greeting_ended_gets_the_voicemail_then_the_call_hangs_up(
    tmp_path: Path,
) -> None:
    with outbound_service(tmp_path) as (service, rest, number_id):
        placed = await place_outbound_call(
            service.database,
            service.settings,
            OutboundCall(
                organization_id=service.organization_id,
                agent_id=service.agent_id,
                phone_number_id=number_id,
                to_number=LEAD,
                dynamic_variables={"customer_name": "Ada"},
                machine_detection=MachineDetection(
                    mode="detect_message_end",
                    hang_up_on=frozenset({"fax"}),
                    voicemail_message="Hi {{customer_name}}, Acme here. Call us back any time.",
                ),
            ),
        )
        assert placed.call_sid is not None
        form = rest.created[0].form
        stream_url, parameters = answer(service, form["Url"], placed.call_sid)
        async with on_the_line(service, stream_url, parameters, placed.call_sid) as caller:
            await caller.silence(0.2)
            await caller.wait_for_audio(timeout=3)  # the greeting, over the machine's own
            verdict = twilio_posts(
                service,
                form["AsyncAmdStatusCallback"],
                CallSid=placed.call_sid,
                AnsweredBy="machine_end_beep",
            )
            assert verdict.status_code == 204
            await caller.wait_for_clear(timeout=3)
            heard_before = caller.played_audio_seconds
            await caller.wait_for_close(timeout=10)
            assert caller.played_audio_seconds > heard_before  # the message was played
        body = service.ended_conversation(placed.conversation_id)

    kinds = [e["kind"] for e in body["velox"]["events"]]
    [started] = [e for e in body["velox"]["events"] if e["kind"] == "voicemail_started"]
    assert started["data"]["message"] == "Hi Ada, Acme here. Call us back any time."
    assert kinds.index("voicemail_left") > kinds.index("voicemail_started")  # heard to its end
    assert body["transcript"][-1]["role"] == "agent"
    assert body["transcript"][-1]["message"] == "Hi Ada, Acme here. Call us back any time."
    assert body["metadata"]["termination_reason"] == "voicemail_left"
    assert len(rest.requests) == 1  # hung up by closing the stream, not by the REST API


async def test_a_call_twilio_refuses_is_reported_and_kept_as_failed(tmp_path: Path) -> None:
    with outbound_service(tmp_path) as (service, rest, number_id):
        rest.refuse[LEAD] = (21215, "Account not authorized to call +14155552671.")
        placed = await place(service, number_id)
        assert not placed.success
        assert "21215" in placed.message
        assert "not authorized" in placed.message
        assert placed.call_sid is None
        assert placed.conversation_id
        body = conversation(service, placed.conversation_id)
    assert body["status"] == "failed"
    assert "not authorized" in body["metadata"]["termination_reason"]


async def test_an_unanswered_call_is_closed_by_its_status_callback(tmp_path: Path) -> None:
    with outbound_service(tmp_path) as (service, rest, number_id):
        placed = await place(service, number_id)
        assert placed.call_sid
        status_url = rest.created[0].form["StatusCallback"]
        for status in ("initiated", "ringing", "no-answer"):
            twilio_posts(service, status_url, CallSid=placed.call_sid, CallStatus=status)
        body = conversation(service, placed.conversation_id)
    assert body["status"] == "failed"
    assert body["metadata"]["termination_reason"] == "twilio call status: no-answer"


def test_invalid_outbound_requests_are_refused_with_reasons(tmp_path: Path) -> None:
    with outbound_service(tmp_path) as (service, rest, number_id):
        url = f"{service.base_url}/v1/convai/twilio/outbound-call"
        base = {"agent_id": service.agent_id, "agent_phone_number_id": number_id}

        def post(body: dict[str, Any], **headers: str) -> httpx.Response:
            return httpx.post(url, json=body, headers=headers or service.headers)

        assert post({**base, "to_number": LEAD}, **{"xi-api-key": "wrong"}).status_code == 401
        unknown_agent = post({**base, "agent_id": "agent_nope", "to_number": LEAD})
        assert unknown_agent.status_code == 404
        assert unknown_agent.json()["detail"]["status"] == "agent_not_found"
        unknown_number = post({**base, "agent_phone_number_id": "phnum_nope", "to_number": LEAD})
        assert unknown_number.status_code == 404
        bad_number = post({**base, "to_number": "12345"})
        assert bad_number.status_code == 422
        assert bad_number.json()["detail"]["status"] == "invalid_to_number"
        refused_override = post(
            {
                **base,
                "to_number": LEAD,
                "conversation_initiation_client_data": {
                    "conversation_config_override": {"agent": {"prompt": {"prompt": "Be rude."}}}
                },
            }
        )
        assert refused_override.status_code == 422
        assert "agent.prompt.prompt" in refused_override.json()["detail"]["message"]
        missing = post({"agent_id": service.agent_id})
        assert missing.status_code == 422
        assert rest.created == []  # nothing was dialed

        with pytest.raises(ApiError) as refused:
            sdk(service).conversational_ai.twilio.outbound_call(
                agent_id=service.agent_id, agent_phone_number_id=number_id, to_number="+1"
            )
        assert refused.value.status_code == 422


async def test_a_client_override_of_the_first_message_is_spoken(tmp_path: Path) -> None:
    with outbound_service(tmp_path) as (service, rest, number_id):
        placed = await place(
            service,
            number_id,
            conversation_initiation_client_data={
                "conversation_config_override": {"agent": {"first_message": "Good morning."}}
            },
        )
        assert placed.call_sid
        assert placed.conversation_id
        stream_url, parameters = answer(service, rest.created[0].form["Url"], placed.call_sid)
        async with on_the_line(service, stream_url, parameters, placed.call_sid) as caller:
            await caller.silence(0.2)
            await caller.wait_for_audio(timeout=3)
            await caller.silence(0.6)
        body = service.ended_conversation(placed.conversation_id)
    assert body["transcript"][0]["message"] == "Good morning."
