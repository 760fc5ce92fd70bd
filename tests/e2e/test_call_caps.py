"""An organization's calls at once and its rate of new calls, on the running service: Twilio's
webhook answers an apology (the call saved failed with why), SIP answers 486 Busy Here, the
conversation socket closes 1013; a place freed is taken again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.config.agent import AgentConfig
from app.db.models import Call
from app.limits.rates import rate_limits_for
from app.observability.metrics import CALLS_REFUSED_CAP
from tests.e2e.socket_client import closed_with_error, receive, socket_url
from tests.e2e.voice_service import SIP_NUMBER, VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.sip_caller import SipCaller
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

GREETING = "Hello, Acme here."
INITIATION = json.dumps({"type": "conversation_initiation_client_data"})
BUSY = "all of our lines are busy"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(lambda messages: "Sure."),
        tts=ToneTextToSpeech(),
        sip=True,
    ) as running:
        yield running


def limit(service: VoiceService, **settings: object) -> None:
    """Run the service's calls under these settings (its rates made anew from them)."""
    runtime = service.app.state.voice
    runtime.settings = runtime.settings.model_copy(update=settings)
    runtime.rates = rate_limits_for(runtime.settings)


def refused_calls(service: VoiceService) -> list[tuple[str, str]]:
    with service.database.session() as session:
        rows = session.execute(
            select(Call.status, Call.termination_reason).where(Call.status == "failed")
        )
        return [(status, reason) for status, reason in rows]


async def live_twilio_call(service: VoiceService, call_sid: str) -> TwilioCaller:
    url, params = await asyncio.to_thread(service.dial, call_sid=call_sid)
    caller = TwilioCaller(url, custom_parameters=params, headers=service.stream_headers(url))
    await caller.__aenter__()
    await caller.wait_for_audio(timeout=10)  # the greeting plays: the call is live
    return caller


async def hang_up(service: VoiceService, caller: TwilioCaller) -> None:
    await caller.stop()
    await caller.__aexit__(None, None, None)
    runtime = service.app.state.voice
    for _ in range(100):
        if not runtime.live_calls:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the call did not end")


async def test_a_full_organization_is_refused_on_every_channel_until_a_call_ends(
    service: VoiceService,
) -> None:
    limit(service, max_calls_per_organization=1)
    refused_before = {
        channel: CALLS_REFUSED_CAP.labels(channel=channel)._value.get()
        for channel in ("twilio", "sip", "websocket")
    }
    first = await live_twilio_call(service, "CA" + "1" * 32)
    try:
        # Twilio: an apology, and the call is saved failed with why.
        busy = await asyncio.to_thread(service.post_voice, call_sid="CA" + "2" * 32)
        assert busy.status_code == 200
        assert BUSY in busy.text
        assert "<Hangup" in busy.text
        assert refused_calls(service) == [("failed", "concurrent_calls")]

        # SIP: 486 Busy Here.
        sip = SipCaller(service.sip_port, SIP_NUMBER, call_id="capped@127.0.0.1")
        try:
            sip.invite()
            await sip.wait_for(486)
        finally:
            sip.close()

        # The conversation socket: an error event, then close 1013 (try again later).
        await closed_with_error(socket_url(service), "calls at once")
    finally:
        await hang_up(service, first)
    for channel in ("twilio", "sip", "websocket"):
        assert CALLS_REFUSED_CAP.labels(channel=channel)._value.get() == (
            refused_before[channel] + 1
        )

    # The place is free again: the next call is answered.
    _, params = await asyncio.to_thread(service.dial, call_sid="CA" + "3" * 32)
    assert params["conversation_id"]


async def test_new_calls_over_the_organizations_rate_are_refused(service: VoiceService) -> None:
    limit(service, rate_limit_new_calls="2/minute", rate_limit_conversations="100/minute")
    for n in range(2):
        await asyncio.to_thread(service.dial, call_sid=f"CA{n:032d}")
    third = await asyncio.to_thread(service.post_voice, call_sid="CA" + "7" * 32)
    assert BUSY in third.text
    assert refused_calls(service) == [("failed", "new_calls")]
    await closed_with_error(socket_url(service), "2/minute")


async def test_conversation_sockets_over_their_rate_close_1013(service: VoiceService) -> None:
    limit(service, rate_limit_conversations="1/minute")
    async with connect(socket_url(service)) as ws:
        await ws.send(INITIATION)
        first = await receive(ws)
        assert first["type"] == "conversation_initiation_metadata"
        async with connect(socket_url(service)) as second:
            error = await receive(second)
            assert error["type"] == "error"
            assert "conversations limit is 1/minute" in json.dumps(error)
            with pytest.raises(ConnectionClosed) as closed:
                await receive(second)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1013
