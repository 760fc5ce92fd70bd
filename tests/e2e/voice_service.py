"""The real service on a real port, with test-double providers, and a way to dial it."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from app.config.agent import AgentConfig, ProviderChoice
from app.db import agents as agent_queries
from app.db import organizations as org_queries
from app.db import phone_numbers as number_queries
from app.db.migrate import upgrade
from app.db.session import Database
from app.main import create_app
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.live_server import free_port, serve

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
AGENT_NUMBER = "+15550001111"
# The agent's number as a SIP trunk delivers it, when the service listens for SIP.
SIP_NUMBER = "+15550009999"
CALLER_NUMBER = "+15552223333"


@dataclass
class RunningService:
    """The real service on a real port, with one organization, one agent and its number."""

    base_url: str
    settings: Settings
    database: Database
    api_key: str
    organization_id: str
    agent_id: str
    validator: RequestValidator = field(init=False)
    # The UDP port SIP calls reach the agent on (0: the service does not listen for SIP).
    sip_port: int = 0
    # The application itself (its `state`: the voice runtime, the drainer).
    app: Any = None

    def __post_init__(self) -> None:
        self.validator = RequestValidator(AUTH_TOKEN)

    @property
    def headers(self) -> dict[str, str]:
        return {"xi-api-key": self.api_key}

    def sign(self, url: str, params: dict[str, str]) -> str:
        signature: str = self.validator.compute_signature(url, params)
        return signature

    def post_voice(
        self, call_sid: str = "CA" + "1" * 32, query: str = "", **form: str
    ) -> httpx.Response:
        """POST the voice webhook, signed, as Twilio would."""
        params = {
            "CallSid": call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": CALLER_NUMBER,
            "To": AGENT_NUMBER,
            "Direction": "inbound",
            "CallStatus": "ringing",
            **form,
        }
        url = f"{self.base_url}/twilio/voice" + (f"?{query}" if query else "")
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": self.sign(url, params)})

    def dial(
        self, call_sid: str = "CA" + "1" * 32, query: str = "", **form: str
    ) -> tuple[str, dict[str, str]]:
        """Place a call through the webhook; returns the stream URL and its parameters."""
        response = self.post_voice(call_sid, query, **form)
        response.raise_for_status()
        stream = ET.fromstring(response.text).find("./Connect/Stream")
        assert stream is not None, response.text
        parameters = {p.attrib["name"]: p.attrib["value"] for p in stream.findall("Parameter")}
        return stream.attrib["url"], parameters

    def set_provider_key(self, provider: str, key: str) -> None:
        """Store the organization's key for a cloud provider, through the API."""
        response = httpx.put(
            f"{self.base_url}/v1/provider-keys/{provider}",
            json={"api_key": key},
            headers=self.headers,
        )
        response.raise_for_status()

    def stream_headers(self, stream_url: str) -> dict[str, str]:
        # Twilio signs the upgrade over the stream URL it connected to, with no parameters.
        return {"X-Twilio-Signature": self.sign(stream_url, {})}

    def ended_conversation(self, conversation_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The conversation once the call has been saved (status done or failed); as it is
        after `timeout` otherwise (a generous bound: on a loaded machine a call's save has
        taken more than 5 s, and the caller's asserts then read a call still in progress)."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.conversation(conversation_id)
            if body["status"] in ("done", "failed") or time.monotonic() > deadline:
                return body
            time.sleep(0.05)

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self.base_url}/v1/convai/conversations/{conversation_id}", headers=self.headers
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@dataclass(kw_only=True)
class VoiceService(RunningService):
    """A running service whose speech providers are the test doubles named here."""

    stt: ScriptedSpeechToText
    llm: ScriptedLanguageModel
    tts: ToneTextToSpeech


@contextmanager
def running_service(
    tmp_path: Path,
    *,
    config: AgentConfig,
    registry: ProviderRegistry,
    twilio_api_base_url: str = "https://api.twilio.com",
    database_url: str | None = None,
    sip: bool = False,
    drain_timeout_s: float = 15.0,
    allow_private_urls: bool = False,
    rate_limits_enabled: bool = True,
    settings_overrides: Mapping[str, Any] | None = None,
) -> Iterator[RunningService]:
    """Serve `registry`'s providers, with an agent (as `config` chooses them) on AGENT_NUMBER;
    on a SQLite file in `tmp_path` unless given an (empty) database's URL. With `sip`, it
    listens for SIP on 127.0.0.1 (a free UDP port) and answers SIP_NUMBER as a SIP trunk.
    `settings_overrides` sets any other setting (or replaces one of these)."""
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url or f"sqlite:///{tmp_path / 'velox.db'}",
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        twilio_auth_token=AUTH_TOKEN,
        twilio_account_sid="AC" + "0" * 32,
        twilio_api_base_url=twilio_api_base_url,
        sip_host="127.0.0.1",
        sip_port=0 if sip else None,
        drain_timeout_s=drain_timeout_s,
        rate_limits_enabled=rate_limits_enabled,
        allow_private_urls=allow_private_urls,
    )
    if settings_overrides:
        settings = settings.model_copy(update=dict(settings_overrides))
    upgrade(settings.resolved_database_url())
    database = Database(settings.resolved_database_url())
    with database.session() as session:
        organization, key = org_queries.create_organization(session, "Acme")
        agent = agent_queries.create_agent(session, organization.id, config)
        number_queries.create_phone_number(
            session,
            organization.id,
            phone_number=AGENT_NUMBER,
            label="main line",
            provider="twilio",
            agent_id=agent.id,
        )
        if sip:
            number_queries.create_phone_number(
                session,
                organization.id,
                phone_number=SIP_NUMBER,
                label="SIP trunk",
                provider="sip_trunk",
                agent_id=agent.id,
            )
        organization_id, agent_id = organization.id, agent.id
    app = create_app(settings, providers=registry, preload=False)
    try:
        with serve(app, port) as base_url:
            sip_port = app.state.sip.port if sip else 0
            yield RunningService(
                base_url,
                settings,
                database,
                key,
                organization_id,
                agent_id,
                sip_port=sip_port,
                app=app,
            )
    finally:
        database.dispose()


@contextmanager
def voice_service(
    tmp_path: Path,
    *,
    config: AgentConfig,
    stt: ScriptedSpeechToText,
    llm: ScriptedLanguageModel,
    tts: ToneTextToSpeech,
    twilio_api_base_url: str = "https://api.twilio.com",
    sip: bool = False,
    drain_timeout_s: float = 15.0,
    database_url: str | None = None,
) -> Iterator[VoiceService]:
    """A running service whose agent uses these test doubles (and the energy VAD)."""
    config = config.model_copy(deep=True)
    config.velox.providers = ProviderChoice(vad="energy", stt=stt.name, llm=llm.name, tts=tts.name)
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    registry.stt.register(stt.name, lambda: stt)
    registry.llm.register(llm.name, lambda: llm)
    registry.tts.register(tts.name, lambda: tts)
    with running_service(
        tmp_path,
        config=config,
        registry=registry,
        twilio_api_base_url=twilio_api_base_url,
        sip=sip,
        drain_timeout_s=drain_timeout_s,
        database_url=database_url,
    ) as running:
        yield VoiceService(
            **{f.name: getattr(running, f.name) for f in fields(RunningService) if f.init},
            stt=stt,
            llm=llm,
            tts=tts,
        )


async def ask_after_the_greeting(
    service: RunningService, question: bytes, *, listen_s: float, answer_timeout: float
) -> dict[str, Any]:
    """One Twilio-protocol call: the greeting plays, the caller asks `question` (PCM16 16 kHz)
    and listens `listen_s` while half a second of the answer arrives; the saved conversation."""
    import asyncio

    from tests.twilio_caller import TwilioCaller

    stream_url, parameters = service.dial()
    async with TwilioCaller(
        stream_url, custom_parameters=parameters, headers=service.stream_headers(stream_url)
    ) as caller:
        await caller.silence(0.3)
        await caller.wait_for_audio(timeout=5)
        await caller.silence(1.5)
        heard = caller.audio_frames
        await caller.play(question)
        listening = asyncio.create_task(caller.silence(listen_s))
        await caller.wait_for(lambda: caller.audio_frames > heard + 25, timeout=answer_timeout)
        await listening
    return await asyncio.to_thread(service.ended_conversation, parameters["conversation_id"])
