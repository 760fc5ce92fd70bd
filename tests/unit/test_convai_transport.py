"""The conversation socket as a line: order on the wire, event ids, and marks by client pacing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from app.audio.formats import PCM16_16K
from telephony.convai.transport import ConvaiTransport

pytestmark = pytest.mark.unit

FRAME = bytes(PCM16_16K.frame_bytes)  # 20 ms


class RecordingSocket:
    """Stands in for the starlette WebSocket: keeps what is sent, in order."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.application_state = None

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def types(self) -> list[str]:
        return [message["type"] for message in self.sent]


async def running(socket: RecordingSocket) -> tuple[ConvaiTransport, asyncio.Task[None]]:
    transport = ConvaiTransport(socket, PCM16_16K)  # type: ignore[arg-type]
    return transport, asyncio.create_task(transport.run_writer())


async def test_messages_reach_the_client_in_the_order_the_engine_made_them() -> None:
    socket = RecordingSocket()
    transport, writer = await running(socket)
    transport.response_started()
    await transport.send_audio(FRAME)
    transport.agent_response("Hello.")
    transport.user_transcript("Hi")
    await transport.drain()
    writer.cancel()
    assert socket.types() == ["audio", "agent_response", "user_transcript"]


async def test_each_response_has_a_larger_event_id_shared_by_its_audio_and_text() -> None:
    socket = RecordingSocket()
    transport, writer = await running(socket)
    transport.response_started()
    await transport.send_audio(FRAME)
    transport.agent_response("One.")
    transport.response_started()
    await transport.send_audio(FRAME)
    await transport.drain()
    writer.cancel()
    first, text, second = socket.sent
    assert first["audio_event"]["event_id"] >= 1
    assert text["agent_response_event"]["event_id"] == first["audio_event"]["event_id"]
    assert second["audio_event"]["event_id"] > first["audio_event"]["event_id"]


async def test_interruption_drops_unsent_audio_and_names_the_cut_response() -> None:
    socket = RecordingSocket()
    transport = ConvaiTransport(socket, PCM16_16K)  # type: ignore[arg-type]
    transport.response_started()
    for _ in range(10):
        await transport.send_audio(FRAME)  # not yet written: no writer runs
    await transport.send_clear()
    writer = asyncio.create_task(transport.run_writer())
    await transport.drain()
    writer.cancel()
    assert socket.types() == ["interruption"]
    assert socket.sent[0]["interruption_event"]["event_id"] == 1


async def test_a_mark_counts_as_heard_once_the_audio_before_it_has_played() -> None:
    socket = RecordingSocket()
    transport, writer = await running(socket)
    heard: list[str] = []
    transport.on_mark = heard.append
    for _ in range(5):  # 100 ms of audio
        await transport.send_audio(FRAME)
    await transport.send_mark("s1")
    await asyncio.sleep(0.05)
    assert heard == []
    await asyncio.sleep(0.1)
    assert heard == ["s1"]
    writer.cancel()


async def test_a_clear_means_pending_marks_were_never_heard() -> None:
    socket = RecordingSocket()
    transport, writer = await running(socket)
    heard: list[str] = []
    transport.on_mark = heard.append
    for _ in range(5):
        await transport.send_audio(FRAME)
    await transport.send_mark("s1")
    await transport.send_clear()
    await asyncio.sleep(0.15)
    assert heard == []
    writer.cancel()


async def test_pong_for_an_unknown_ping_is_not_a_measurement() -> None:
    transport = ConvaiTransport(RecordingSocket(), PCM16_16K)  # type: ignore[arg-type]
    assert transport.on_pong(99) is False
    transport.ping()
    assert transport.on_pong(1) is True
    assert transport.ping_ms is not None
