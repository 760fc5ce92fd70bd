"""What a transport needs from the running service, handed over by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.db.session import Database
from app.engine.options import EngineOptions
from app.engine.phrases import PhraseCache
from app.engine.record import CallRecorder
from app.engine.session import CallSession
from app.providers.registry import ProviderRegistry
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

    @classmethod
    def phrase_cache(cls, settings: Settings) -> PhraseCache:
        return PhraseCache(directory=settings.data_dir / "phrases")

    @classmethod
    def engine_options(cls, settings: Settings) -> EngineOptions:
        return EngineOptions(
            playout_lead_ms=settings.playout_lead_ms,
            inbound_queue_frames=settings.inbound_queue_frames,
            call_shutdown_timeout_s=settings.call_shutdown_timeout_s,
            dtmf_collect_timeout_s=settings.dtmf_collect_timeout_s,
        )
