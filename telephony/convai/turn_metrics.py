"""Each exchange's latencies told to the conversation's client as they are logged.

The socket's own protocol has no per-turn latency message, so Velox adds `velox_turn_metrics`
(`server_events.render_turn_metrics`): the dashboard's Test panel reads it through the JS
client's raw event callback; the official clients ignore it.
"""

from __future__ import annotations

from typing import Any

from app.engine.transcript import TranscriptLog
from telephony.convai.server_events import render_turn_metrics
from telephony.convai.transport import ConvaiTransport


def tell_turn_metrics(log: TranscriptLog, transport: ConvaiTransport) -> None:
    """Post every answered exchange's figures on `transport` from now on.

    Told when the agent's turn is logged (its audio played, or cut off), with the chain the
    log keeps on the caller's turn it answered; a turn nobody spoke before (a first message)
    or one without a voice-to-voice figure (text) sends nothing.
    """

    def on_moment(moment: dict[str, Any]) -> None:
        if moment.get("type") != "turn" or moment.get("role") != "agent":
            return
        if moment["metrics"].get("voice_to_voice_ms") is None:
            return
        answered = log.turns[-2] if len(log.turns) >= 2 else None
        if answered is None or answered.role != "user":
            return
        transport.post(render_turn_metrics(answered.metrics, interrupted=moment["interrupted"]))

    log.listeners.append(on_moment)
