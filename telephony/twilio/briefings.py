"""A warm transfer on Twilio: the live call is redirected to

    <Response><Play>{caller message}</Play>
      <Dial><Number url="/twilio/briefing?token=…" method="POST">{number}</Number></Dial>
    </Response>

`<Number url>` is Twilio's whisper: when the person answers, Twilio fetches that TwiML and runs
it on their leg only (`<Play>` the summary), then joins the two parties. The audio is the
agent's own voice, written as WAV files named by an unguessable token in a folder every node
sees (beside the recordings), served at `/twilio/briefings/{token}.wav`; files older than an
hour are swept when a new one is written.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
import wave
from pathlib import Path

from app.audio.formats import AudioChunk
from telephony.audio import alaw_to_pcm16, mulaw_to_pcm16

KEEP_S = 3600.0
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def whisper_url(public_url: str, token: str) -> str:
    """Where Twilio fetches the whisper TwiML when the person answers (signed, POST)."""
    return f"{public_url.rstrip('/')}/twilio/briefing?token={token}"


def audio_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/twilio/briefings/{token}.wav"


class BriefingAudio:
    """The warm transfers' WAV files of one deployment."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def store(self, audio: AudioChunk) -> str:
        """Write `audio` as a WAV file; its token."""
        self._directory.mkdir(parents=True, exist_ok=True)
        self._sweep()
        token = secrets.token_urlsafe(32)
        pcm = audio.data
        if audio.format.encoding == "mulaw":
            pcm = mulaw_to_pcm16(pcm)
        elif audio.format.encoding == "alaw":
            pcm = alaw_to_pcm16(pcm)
        partial = self._directory / f".{token}.part"
        with wave.open(str(partial), "wb") as file:
            file.setnchannels(1)
            file.setsampwidth(2)
            file.setframerate(audio.format.sample_rate)
            file.writeframes(pcm)
        partial.rename(self._directory / f"{token}.wav")
        return token

    def path(self, token: str) -> Path | None:
        """The file of `token`, if it is one and still kept."""
        if not TOKEN.match(token):
            return None
        path = self._directory / f"{token}.wav"
        return path if path.is_file() else None

    def _sweep(self) -> None:
        cutoff = time.time() - KEEP_S
        for path in self._directory.glob("*.wav"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
