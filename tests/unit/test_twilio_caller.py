"""The Twilio test caller against a scripted WebSocket server: framing, pacing, marks and clear."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from app.audio.levels import pcm16_dbfs
from telephony.audio import mulaw_to_pcm16
from tests.audio_samples import speech_like
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.e2e

STREAM = "MZ11111111111111111111111111111111"


@dataclass
class Received:
    at: float
    message: dict[str, Any] | None
    raw: str | bytes


@dataclass
class Peer:
    """What the server side saw of one caller."""

    headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    closed: ConnectionClosed | None = None

    def events(self, name: str) -> list[Received]:
        return [r for r in self.received if r.message and r.message.get("event") == name]

    async def wait_for(self, name: str, count: int = 1, within: float = 2.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.events(name)) < count:
            assert time.monotonic() < deadline, f"server saw no {name!r}"
            await asyncio.sleep(0.005)
        return self.events(name)


Script = Callable[[ServerConnection, Peer], Awaitable[None]]


def media(mulaw: bytes) -> str:
    payload = base64.b64encode(mulaw).decode()
    return json.dumps({"event": "media", "streamSid": STREAM, "media": {"payload": payload}})


def mark(name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": STREAM, "mark": {"name": name}})


CLEAR = json.dumps({"event": "clear", "streamSid": STREAM})


async def nothing(ws: ServerConnection, peer: Peer) -> None:
    return None


@asynccontextmanager
async def twilio_call(script: Script = nothing) -> AsyncIterator[tuple[TwilioCaller, Peer]]:
    """A server running `script` once the caller has started, and a caller connected to it."""
    peer = Peer()

    async def handler(ws: ServerConnection) -> None:
        peer.headers = dict(ws.request.headers) if ws.request else {}
        script_task: asyncio.Task[None] | None = None
        try:
            async for raw in ws:
                message = json.loads(raw) if isinstance(raw, str) else None
                peer.received.append(Received(time.monotonic(), message, raw))
                if message and message.get("event") == "start":
                    script_task = asyncio.create_task(script(ws, peer))
        except ConnectionClosed as closed:
            peer.closed = closed
        else:
            peer.closed = ws.close_exc if isinstance(ws.close_exc, ConnectionClosed) else None
        if script_task:
            script_task.cancel()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        caller = TwilioCaller(
            f"ws://127.0.0.1:{port}/twilio/media",
            custom_parameters={"agent_id": "agt_1"},
            call_sid="CA22222222222222222222222222222222",
            stream_sid=STREAM,
            account_sid="AC33333333333333333333333333333333",
            headers={"X-Twilio-Signature": "sig=="},
        )
        async with caller:
            yield caller, peer


async def test_caller_opens_with_connected_then_start_and_its_headers() -> None:
    async with twilio_call() as (_, peer):
        await peer.wait_for("start")
    assert peer.headers["x-twilio-signature"] == "sig=="
    connected, start = (r.message for r in peer.received[:2])
    assert connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    assert start is not None
    assert start["streamSid"] == STREAM
    assert start["start"]["callSid"] == "CA22222222222222222222222222222222"
    assert start["start"]["customParameters"] == {"agent_id": "agt_1"}
    assert start["start"]["tracks"] == ["inbound"]
    assert start["start"]["mediaFormat"] == {
        "encoding": "audio/x-mulaw",
        "sampleRate": 8000,
        "channels": 1,
    }


async def test_play_sends_numbered_20ms_mulaw_frames_in_real_time() -> None:
    async with twilio_call() as (caller, peer):
        await caller.play(speech_like(0.2))
        frames = await peer.wait_for("media", 10)
    assert len(frames) == 10
    bodies = [f.message["media"] for f in frames if f.message]
    assert [b["chunk"] for b in bodies] == [str(n) for n in range(1, 11)]
    sequence = [int(f.message["sequenceNumber"]) for f in frames if f.message]
    assert sequence == sorted(set(sequence))
    timestamps = [int(b["timestamp"]) for b in bodies]
    assert [b - a for a, b in itertools.pairwise(timestamps)] == [20] * 9
    payload = b"".join(base64.b64decode(b["payload"]) for b in bodies)
    assert len(payload) == 1600
    assert 0.17 <= frames[-1].at - frames[0].at <= 0.3
    assert pcm16_dbfs(mulaw_to_pcm16(payload[160:])) == pytest.approx(-12, abs=0.5)


async def test_silence_is_sent_as_mulaw_silence_frames() -> None:
    async with twilio_call() as (caller, peer):
        await caller.silence(0.1)
        frames = await peer.wait_for("media", 5)
    payload = b"".join(base64.b64decode(f.message["media"]["payload"]) for f in frames if f.message)
    assert payload == b"\xff" * 800


async def test_mark_is_echoed_once_the_audio_before_it_has_played() -> None:
    sent_at: list[float] = []

    async def script(ws: ServerConnection, peer: Peer) -> None:
        sent_at.append(time.monotonic())
        for _ in range(15):  # 0.3 s of audio, sent at once as a fast TTS would
            await ws.send(media(b"\x00" * 160))
        await ws.send(mark("sentence-1"))

    async with twilio_call(script) as (caller, peer):
        (echo,) = await peer.wait_for("mark")
        assert echo.message == {
            "event": "mark",
            "sequenceNumber": echo.message["sequenceNumber"] if echo.message else None,
            "streamSid": STREAM,
            "mark": {"name": "sentence-1"},
        }
        assert 0.28 <= echo.at - sent_at[0] <= 0.45
        assert [m.name for m in caller.marks_received] == ["sentence-1"]
        assert [(m.name, m.cleared) for m in caller.marks_echoed] == [("sentence-1", False)]
        assert caller.played_audio_seconds == pytest.approx(0.3, abs=0.03)
        assert caller.received_audio() == b"\x00" * 2400


async def test_playback_never_runs_ahead_of_arrival() -> None:
    async def script(ws: ServerConnection, peer: Peer) -> None:
        await ws.send(media(b"\x00" * 800))  # 0.1 s
        await asyncio.sleep(0.3)
        await ws.send(media(b"\x00" * 800))  # arrives after the first has finished playing
        await ws.send(mark("end"))

    async with twilio_call(script) as (caller, peer):
        (echo,) = await peer.wait_for("mark")
        assert caller.last_audio_at is not None
        assert 0.09 <= echo.at - caller.last_audio_at <= 0.2


async def test_clear_drops_unplayed_audio_and_returns_pending_marks_at_once() -> None:
    cleared_at: list[float] = []

    async def script(ws: ServerConnection, peer: Peer) -> None:
        await ws.send(media(b"\x00" * 8000))  # 1 s
        await ws.send(mark("a"))
        await ws.send(media(b"\x00" * 800))
        await ws.send(mark("b"))
        await asyncio.sleep(0.2)
        cleared_at.append(time.monotonic())
        await ws.send(CLEAR)

    async with twilio_call(script) as (caller, peer):
        echoes = await peer.wait_for("mark", 2)
        assert [e.message["mark"]["name"] for e in echoes if e.message] == ["a", "b"]
        assert all(e.at - cleared_at[0] < 0.1 for e in echoes)
        assert [(m.name, m.cleared) for m in caller.marks_echoed] == [("a", True), ("b", True)]
        assert len(caller.clears) == 1
        assert caller.playback_finished
        assert caller.played_audio_seconds == pytest.approx(0.2, abs=0.06)


async def test_a_mark_with_no_audio_buffered_is_echoed_at_once() -> None:
    async def script(ws: ServerConnection, peer: Peer) -> None:
        await ws.send(mark("nothing-queued"))

    async with twilio_call(script) as (_caller, peer):
        (echo,) = await peer.wait_for("mark", within=0.1)
        assert echo.message
        assert echo.message["mark"]["name"] == "nothing-queued"


async def test_wait_until_quiet_waits_for_playback_to_finish() -> None:
    async def script(ws: ServerConnection, peer: Peer) -> None:
        await ws.send(media(b"\x00" * 2400))  # 0.3 s

    async with twilio_call(script) as (caller, _peer):
        await caller.wait_for_audio(timeout=1)
        assert caller.first_audio_at is not None
        await caller.wait_until_quiet(0.05, timeout=2)
        assert time.monotonic() - caller.first_audio_at >= 0.29


async def test_wait_helpers_time_out_with_what_they_waited_for() -> None:
    async with twilio_call() as (caller, _):
        with pytest.raises(TimeoutError, match="clear"):
            await caller.wait_for_clear(timeout=0.05)


async def test_server_frames_that_are_not_twilio_messages_are_recorded_as_malformed() -> None:
    async def script(ws: ServerConnection, peer: Peer) -> None:
        await ws.send("not json")
        await ws.send(b"\x01\x02")
        await ws.send(json.dumps({"event": "media", "streamSid": "MZother", "media": {}}))

    async with twilio_call(script) as (caller, _):
        await caller.wait_for(lambda: len(caller.malformed) == 3, timeout=1)
        assert caller.media == []


async def test_dtmf_and_raw_frames_reach_the_server_as_sent() -> None:
    async with twilio_call() as (caller, peer):
        await caller.send_dtmf("7")
        await caller.send_raw(b"\x00binary")
        (dtmf,) = await peer.wait_for("dtmf")
        await caller.wait_for(lambda: peer.received[-1].raw == b"\x00binary", timeout=1)
    assert dtmf.message
    assert dtmf.message["dtmf"] == {"track": "inbound_track", "digit": "7"}
    assert dtmf.message["streamSid"] == STREAM


async def test_stop_sends_stop_then_closes_cleanly() -> None:
    async with twilio_call() as (caller, peer):
        await caller.stop()
        await caller.wait_for_close(timeout=1)
    (stop,) = peer.events("stop")
    assert stop.message
    assert stop.message["stop"]["callSid"] == "CA22222222222222222222222222222222"
    assert peer.closed is not None
    assert peer.closed.rcvd is not None
    assert peer.closed.rcvd.code == 1000


async def test_drop_loses_the_connection_without_stop_or_close_frame() -> None:
    async with twilio_call() as (caller, peer):
        await peer.wait_for("start")
        await caller.drop()
        await caller.wait_for(lambda: peer.closed is not None, timeout=2)
    assert peer.events("stop") == []
    assert peer.closed is not None
    assert peer.closed.rcvd is None
