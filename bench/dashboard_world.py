"""The dashboard bench's world: section 7's calls in PostgreSQL (`bench.call_queries_seed`), a
support lead of the big organization who signs in with a password, and one more call of ten
minutes with its stereo recording.

The long call is saved as the service saves a finished call (`create_call`, then
`save_finished_call` with its turns, events and the recording's path and legs, which is what
makes the API say `has_audio`); its analysis is written as the worker writes one. Its MP3 is made
by the product's own recorder (`app.calls.recording.CallRecording`) fed ten minutes of frames on
a simulated clock, as `bench.recording_cost` does: caller frames every 20 ms (a tone while the
caller speaks, quiet otherwise), the agent's frames while the agent speaks. 16 kHz (a web call):
the largest file Velox writes for ten minutes.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from app.calls.recording import CallRecording, recording_path
from app.calls.recording_process import RecordingProcess
from app.db.calls import create_call, save_finished_call
from app.db.session import Database
from app.people import accounts
from app.people.roles import Role
from bench.call_queries_seed import World, seed
from tests.integration.seeded_calls import Analysed, analyse

SUPPORT_EMAIL = "support.lead@bench.example"
PASSWORD = "correct horse battery staple"
RECORDED_MINUTES = 10
RECORDING_RATE = 16_000
TURN_EVERY_S = 4.5  # as the seeded calls space their turns
FRAME_S = 0.02
CALLER_LINES = (
    "I was charged twice on my credit card.",
    "The order number is 40213.",
    "Yes, Tuesday works for me.",
    "Could you send the invoice by email?",
)
AGENT_LINES = (
    "Thanks for calling, how can I help you today?",
    "Let me look up your invoice.",
    "I have updated the payment on your account.",
    "Is there anything else I can help you with?",
)
# The engine's latency chain on each caller turn, as a real call's turns carry it.
CHAIN = {
    "end_of_speech_to_endpoint_ms": 240.0,
    "stt_final_ms": 180.0,
    "llm_first_token_ms": 610.0,
    "tts_first_byte_ms": 150.0,
    "voice_to_voice_ms": 1090.0,
    "stt_provider": "deepgram",
    "llm_provider": "groq",
    "tts_provider": "cartesia",
}


@dataclass(frozen=True, slots=True)
class DashboardWorld:
    calls: World
    recorded_call: str  # its conversation id
    recorded_turns: int
    recording_bytes: int


def build_world(
    url: str, calls: int, recordings: Path, say: Callable[[str], None]
) -> DashboardWorld:
    """Seed `calls` calls, then the support lead and the recorded call."""
    world = seed(url, calls, say)
    database = Database(url)
    try:
        _support_lead(database, world.target.id)
        turns = _turns(RECORDED_MINUTES * 60)
        call_id = _recorded_call(database, world, turns)
        say(f"  a {RECORDED_MINUTES}-minute call with {len(turns)} turns: {call_id}")
    finally:
        database.dispose()
    path = recordings / recording_path(world.target.id, call_id)
    _record(recordings, recording_path(world.target.id, call_id), turns)
    size = path.stat().st_size
    say(f"  its recording: {size / 2**20:.1f} MiB stereo MP3 at {RECORDING_RATE} Hz")
    return DashboardWorld(world, call_id, len(turns), size)


def _support_lead(database: Database, organization_id: str) -> None:
    """A support lead invited (as `velox users create` does) who has set a password."""
    with database.session() as session:
        _, token = accounts.invite_user(
            session,
            organization_id,
            SUPPORT_EMAIL,
            Role.SUPPORT,
            accounts.AccountRules(),
            actor="bench",
        )
    accounts.accept_invite(database, token, PASSWORD)


def _turns(seconds: int) -> list[dict[str, Any]]:
    """A turn every `TURN_EVERY_S`, the agent first, as the recorder hands them over."""
    turns = []
    for position in range(int(seconds / TURN_EVERY_S)):
        caller = position % 2 == 1
        lines = CALLER_LINES if caller else AGENT_LINES
        turns.append(
            {
                "role": "user" if caller else "agent",
                "message": lines[(position // 2) % len(lines)],
                "started_ms": round(position * TURN_EVERY_S * 1000),
                "interrupted": not caller and position % 24 == 10,
                "source": "voice",
                "metrics": dict(CHAIN) if caller else {"tts_first_byte_ms": 95.0},
            }
        )
    return turns


def _recorded_call(database: Database, world: World, turns: list[dict[str, Any]]) -> str:
    started = world.now - timedelta(hours=1)
    seconds = RECORDED_MINUTES * 60
    target = world.target
    with database.session() as session:
        call = create_call(
            session,
            target.id,
            agent_id=target.agents["Support"],
            direction="inbound",
            channel="websocket",
        )
        call_id = call.id
        save_finished_call(
            session,
            target.id,
            call_id,
            agent_id=target.agents["Support"],
            status="done",
            termination_reason="caller hung up",
            started_at=started,
            ended_at=started + timedelta(seconds=seconds),
            metrics={"counters": {"provider_errors": 0, "barge_ins": 5}},
            turns=turns,
            events=[{"at_ms": 0, "kind": "media_started", "data": {}}]
            + [
                {"at_ms": turn["started_ms"] + 2000, "kind": "barge_in", "data": {}}
                for turn in turns
                if turn["interrupted"]
            ],
            recording={
                "path": recording_path(target.id, call_id),
                "has_user_audio": True,
                "has_response_audio": True,
            },
        )
        analyse(
            session,
            call_id,
            Analysed("Double charge on a card; refunded.", "positive", "completed", "success"),
        )
    return call_id


def _record(recordings: Path, relative: str, turns: list[dict[str, Any]]) -> None:
    """The call's MP3, written by the product's recorder on a simulated clock."""
    now = [1000.0]
    writer = RecordingProcess()
    tap = CallRecording(
        writer, recordings, relative, rate=RECORDING_RATE, hold_s=0.7, clock=lambda: now[0]
    )
    samples = int(RECORDING_RATE * FRAME_S)
    t = np.arange(samples) / RECORDING_RATE
    quiet = np.zeros(samples, np.int16).tobytes()
    frames = int(RECORDED_MINUTES * 60 / FRAME_S)
    for index in range(frames):
        at = index * FRAME_S
        position = min(int(at / TURN_EVERY_S), len(turns) - 1)
        speaking = turns[position]["role"]
        # A voice-like envelope: syllables of about 200 ms, pitch wandering with the turn.
        level = 6000 * abs(math.sin(math.pi * at / 0.2))
        pitch = 140 + 40 * (position % 5)
        tone = (np.sin(2 * np.pi * pitch * (t + at)) * level).astype(np.int16).tobytes()
        now[0] += FRAME_S
        tap.caller_frame(tone if speaking == "user" else quiet)
        if speaking == "agent":
            tap.agent_frame(tone, RECORDING_RATE, now[0])
        if index % 25 == 24:
            writer.wait()
    try:
        asyncio.run(tap.close())
    finally:
        writer.stop()
