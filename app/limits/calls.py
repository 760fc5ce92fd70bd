"""An organization's calls at once on this node, and its rate of new calls: what a transport
asks before it lets a call begin.

The cap counts the calls this node holds for the organization (`VoiceRuntime.live_calls`); on
several nodes each holds up to it. The rate (`VELOX_RATE_LIMIT_NEW_CALLS`) is shared through
Redis when configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.limits.rates import Refusal
from app.observability.metrics import CALLS_REFUSED_CAP

if TYPE_CHECKING:
    from app.calls.runtime import VoiceRuntime

# Seconds a caller's carrier is told to wait when the organization is at its cap.
CAP_RETRY_AFTER_S = 5


def calls_held(runtime: VoiceRuntime, organization_id: str) -> int:
    return sum(
        1
        for session in runtime.live_calls.values()
        if session.context.organization_id == organization_id
    )


def new_call_refusal(
    runtime: VoiceRuntime, organization_id: str, *, channel: str
) -> Refusal | None:
    """Why a new call of the organization may not begin now (its cap of calls at once on this
    node, or its rate of new calls), or None. Blocking when the rate is kept in Redis."""
    settings = runtime.settings
    if not settings.rate_limits_enabled:
        return None
    cap = settings.max_calls_per_organization
    if calls_held(runtime, organization_id) >= cap:
        CALLS_REFUSED_CAP.labels(channel=channel).inc()
        return Refusal("concurrent_calls", f"{cap} calls at once", CAP_RETRY_AFTER_S)
    return runtime.rates.hit("new_calls", organization_id)
