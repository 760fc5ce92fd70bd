"""Velox's `velox_turn_metrics` on the conversation socket: each answered exchange's latencies."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from app.audio.formats import PCM16_16K
from app.engine.response import ResponseTimings
from app.engine.transcript import TranscriptLog
from telephony.convai.server_events import render_turn_metrics
from telephony.convai.transport import ConvaiTransport
from telephony.convai.turn_metrics import tell_turn_metrics

pytestmark = pytest.mark.unit


class RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.application_state = None

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(timings: ResponseTimings) -> Any:
    """What `TranscriptLog.agent_turn` reads of a response: its timings."""
    return SimpleNamespace(result=SimpleNamespace(timings=timings))


def test_the_event_carries_each_stage_in_milliseconds_and_null_for_the_missing() -> None:
    message = json.loads(
        render_turn_metrics(
            {"stt_final_ms": 180.0, "voice_to_voice_ms": 1090, "llm_provider": "groq"},
            interrupted=True,
        )
    )
    assert message == {
        "type": "velox_turn_metrics",
        "velox_turn_metrics_event": {
            "end_of_speech_to_endpoint_ms": None,
            "stt_final_ms": 180.0,
            "llm_first_token_ms": None,
            "tts_first_byte_ms": None,
            "voice_to_voice_ms": 1090.0,
            "interrupted": True,
        },
    }


async def test_an_answered_exchange_is_told_once_its_answer_is_logged() -> None:
    clock = Clock()
    log = TranscriptLog(clock=clock, started=clock.now)
    socket = RecordingSocket()
    transport = ConvaiTransport(socket, PCM16_16K)  # type: ignore[arg-type]
    writer = asyncio.create_task(transport.run_writer())
    tell_turn_metrics(log, transport)

    greeting = ResponseTimings(first_frame_sent=100.1)
    log.agent_turn(answer(greeting), "Hello.", "greeting", end_of_speech=None)
    log.user_turn("When do you open?", 2000, {"end_of_speech_to_endpoint_ms": 240.0})
    end_of_speech = 103.0
    timings = ResponseTimings(
        llm_started=103.3,
        llm_first_token=103.9,
        tts_first_request=103.9,
        tts_first_byte=104.05,
        first_frame_sent=104.1,
    )
    clock.now = 106.0
    log.agent_turn(answer(timings), "At nine.", "voice", end_of_speech=end_of_speech)
    await transport.drain()
    writer.cancel()

    assert [message["type"] for message in socket.sent] == ["velox_turn_metrics"]
    figures = socket.sent[0]["velox_turn_metrics_event"]
    assert figures["end_of_speech_to_endpoint_ms"] == 240.0
    assert figures["voice_to_voice_ms"] == pytest.approx(1100.0)
    assert figures["llm_first_token_ms"] == pytest.approx(600.0)
    assert figures["tts_first_byte_ms"] == pytest.approx(150.0)
    assert figures["interrupted"] is False
