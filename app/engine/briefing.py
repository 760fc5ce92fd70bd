"""A warm transfer's words (`transfer_to_number` with `transfer_type: "conference"`): the summary
the person who answers hears before the caller is joined (the model's `agent_message`, or made
from the transcript when it wrote none), and what the caller hears while it rings (its
`client_message`), each spoken by the agent's own voice. A line that can brief the person first
(`WarmTransfers`: Twilio) carries them out; another transfers blind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from app.audio.formats import ENGINE_SAMPLE_RATE, AudioChunk, AudioFormat
from app.engine.record import TurnRecord
from app.providers.base import TextToSpeech

SUMMARY_MAX_CHARS = 600


@dataclass(frozen=True, slots=True)
class Briefing:
    summary: str
    summary_audio: AudioChunk
    caller_message: str = ""
    caller_audio: AudioChunk | None = None


@runtime_checkable
class WarmTransfers(Protocol):
    """A line that can have the person answer, hear `briefing.summary_audio`, then join the
    caller (who hears `briefing.caller_audio` while it rings)."""

    async def transfer_warm(self, phone_number: str, briefing: Briefing) -> None: ...


def transcript_summary(turns: list[TurnRecord]) -> str:
    """A summary made from the transcript when the model wrote none: what the caller said,
    their latest words kept whole when it is long."""
    said = [t.message.strip() for t in turns if t.role == "user" and t.message.strip()]
    if not said:
        return "A caller is being transferred to you. They have not said anything yet."
    kept: list[str] = []
    for line in reversed(said):
        if kept and sum(len(k) + 1 for k in kept) + len(line) > SUMMARY_MAX_CHARS:
            break
        kept.insert(0, line[:SUMMARY_MAX_CHARS])
    return "A caller is being transferred to you. They said: " + " ".join(kept)


async def spoken(tts: TextToSpeech, voice_id: str, text: str) -> AudioChunk:
    """`text` said whole by the agent's voice (PCM16 at the engine's rate, if it can)."""
    audio_format = tts.output_format(AudioFormat("pcm16", ENGINE_SAMPLE_RATE))
    parts = [chunk async for chunk in tts.synthesize(text, voice_id, audio_format)]
    if not parts:
        raise RuntimeError("the voice returned no audio for the transfer's words")
    return AudioChunk(b"".join(part.data for part in parts), parts[0].format)
