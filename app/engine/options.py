"""Process-wide engine knobs (from settings); per-agent knobs live in the agent's config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineOptions:
    playout_lead_ms: int = 200
    inbound_queue_frames: int = 50
    call_shutdown_timeout_s: float = 5.0
    provider_close_timeout_s: float = 3.0
    dtmf_collect_timeout_s: float = 1.5
