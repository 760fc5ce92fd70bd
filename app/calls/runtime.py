"""The running voice service as the call lifecycle sees it: settings, database, providers,
the recorder, and this node's live calls (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.calls.live import LiveBus, LocalBus
from app.calls.recording_process import RecordingProcess
from app.config.agent import AgentConfig
from app.config.credentials import CredentialBox
from app.db import provider_credentials as credential_queries
from app.db.session import Database
from app.engine.options import EngineOptions
from app.engine.phrases import PhraseCache
from app.engine.record import CallRecorder
from app.engine.session import CallSession
from app.limits.rates import RateLimits, rate_limits_for
from app.observability.metrics import LIVE_CALLS
from app.providers.call_providers import providers_for_call
from app.providers.fallback.breakers import CircuitBreakers
from app.providers.registry import ProviderRegistry, ProviderSet
from app.settings import Settings


@dataclass
class VoiceRuntime:
    settings: Settings
    database: Database
    providers: ProviderRegistry
    recorder: CallRecorder
    options: EngineOptions
    live_calls: dict[str, CallSession] = field(default_factory=dict)
    phrases: PhraseCache = field(default_factory=PhraseCache)
    breakers: CircuitBreakers = field(init=False)
    # This process's row in voice_nodes once the service has started (see app/calls/node_watch.py).
    node_id: str | None = None
    # Every node's calls as they happen, and commands to the node holding a call.
    live: LiveBus = field(default_factory=LocalBus)
    # Writes this node's recorded calls (a process of its own, started on the first one).
    recordings: RecordingProcess = field(default_factory=RecordingProcess)
    # Set when the node is shutting down: new calls are refused, the calls it holds go on.
    draining: bool = False
    # Tenants' rates (app/limits/rates.py), from the settings.
    rates: RateLimits = field(init=False)

    def __post_init__(self) -> None:
        self.rates = rate_limits_for(self.settings)
        self.breakers = CircuitBreakers(
            failure_threshold=self.settings.provider_breaker_failures,
            cooldown_s=self.settings.provider_breaker_cooldown_s,
        )

    def add_live_call(self, session: CallSession) -> None:
        self.live_calls[session.context.call_id] = session
        LIVE_CALLS.inc()

    def drop_live_call(self, call_id: str) -> None:
        if self.live_calls.pop(call_id, None) is not None:
            LIVE_CALLS.dec()

    def call_providers(self, organization_id: str, config: AgentConfig) -> ProviderSet:
        """The providers a call of this organization runs on (blocking: reads its keys).

        Raises `UnknownProviderError` or `MissingKeyError` when a role has no usable provider.
        """
        keys: dict[str, str] = {}
        with self.database.session() as db:
            encrypted = credential_queries.encrypted_keys(db, organization_id)
        if encrypted:
            box = CredentialBox(self.settings.signing_secret())
            keys = {name: box.decrypt(token) for name, token in encrypted.items()}
        return providers_for_call(
            self.providers, config, keys=keys, breakers=self.breakers, scope=organization_id
        )

    @classmethod
    def phrase_cache(cls, settings: Settings) -> PhraseCache:
        return PhraseCache(directory=settings.data_dir / "phrases")

    @classmethod
    def engine_options(cls, settings: Settings) -> EngineOptions:
        return EngineOptions(
            playout_lead_ms=settings.playout_lead_ms,
            inbound_queue_frames=settings.inbound_queue_frames,
            call_shutdown_timeout_s=settings.call_shutdown_timeout_s,
            provider_close_timeout_s=settings.provider_close_timeout_s,
            dtmf_collect_timeout_s=settings.dtmf_collect_timeout_s,
        )
