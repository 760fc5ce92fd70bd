"""A caller that records the agent's side of the line as a timeline, and can echo the agent.

Unlike the scale bench's `PhoneLine`, which counts frames after a `clear` as a failure, this line
does what Twilio does with them: it plays them (an agent that resumes after a backchannel sends
more audio after its `clear`). It records when every agent frame and every `clear` arrived, so
the probes' figures are read off the wire afterwards. With `echo_agent` the agent's audio, as it
plays, returns in what the caller sends, quieter and later (a speakerphone).
"""

from __future__ import annotations

import base64
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.phone_line import _PAYLOAD_KEY, MULAW_RATE, PhoneLine
from telephony.audio import mulaw_to_pcm16, pcm16_to_mulaw


@dataclass(slots=True)
class Timeline:
    """Arrival times (monotonic seconds) of the agent's frames and clears."""

    media_at: list[float] = field(default_factory=list)
    clears_at: list[float] = field(default_factory=list)

    def first_media_after(self, at: float) -> float | None:
        return next((t for t in self.media_at if t > at), None)

    def first_clear_after(self, at: float) -> float | None:
        return next((t for t in self.clears_at if t >= at), None)

    def media_between(self, start: float, end: float) -> list[float]:
        return [t for t in self.media_at if start < t < end]


class _Speaker:
    """What the caller's speaker plays, kept long enough to return it as an echo."""

    def __init__(self, gain_db: float, delay_s: float) -> None:
        self._gain = 10 ** (gain_db / 20)
        self._delay_s = delay_s
        self._played: deque[tuple[float, np.ndarray]] = deque()  # (plays at, samples)

    def play(self, plays_at: float, mulaw: bytes) -> None:
        samples = np.frombuffer(mulaw_to_pcm16(mulaw), dtype="<i2").astype(np.float64)
        self._played.append((plays_at, samples))

    def cut(self, now: float) -> None:
        """A `clear`: nothing after `now` plays."""
        kept: deque[tuple[float, np.ndarray]] = deque()
        for plays_at, samples in self._played:
            if plays_at < now:
                kept.append((plays_at, samples[: round((now - plays_at) * MULAW_RATE)]))
        self._played = kept

    def mixed_into(self, payload: str, sent_at: float) -> str:
        """The caller's frame sent at `sent_at` with the echo of what played `delay` before."""
        caller = np.frombuffer(mulaw_to_pcm16(base64.b64decode(payload)), dtype="<i2")
        n = len(caller)
        window_start = sent_at - n / MULAW_RATE - self._delay_s
        while self._played and self._played[0][0] + 0.1 < window_start:
            self._played.popleft()
        echo = np.zeros(n)
        for plays_at, samples in self._played:
            first = round((plays_at - window_start) * MULAW_RATE)  # the frame's start, in echo
            lo, hi = max(first, 0), min(first + len(samples), n)
            if lo < hi:
                echo[lo:hi] += samples[lo - first : hi - first]
        if not echo.any():
            return payload
        mixed = np.clip(caller + self._gain * echo, -32768, 32767).astype("<i2")
        return base64.b64encode(pcm16_to_mulaw(mixed.tobytes())).decode("ascii")


class FeelLine(PhoneLine):
    """A `PhoneLine` that plays everything it is sent and keeps a `Timeline` of it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeline = Timeline()
        self._speaker: _Speaker | None = None

    def echo_agent(self, *, gain_db: float, delay_s: float) -> None:
        """From now on the agent's played audio returns in what the caller sends."""
        self._speaker = _Speaker(gain_db, delay_s)
        self._outgoing = self._speaker.mixed_into

    @property
    def response_first_at(self) -> float | None:
        """The first agent frame since the caller last spoke."""
        return self._response_first

    def _on_media(self, now: float, message: str) -> None:
        start = message.find(_PAYLOAD_KEY) + len(_PAYLOAD_KEY)
        mulaw = base64.b64decode(message[start : message.index('"', start)])
        self.timeline.media_at.append(now)
        self.record.frames_received += 1
        self._last_media_at = now
        plays_at = max(self._play_end, now)
        self._play_end = plays_at + len(mulaw) / MULAW_RATE
        if self._speaker is not None:
            self._speaker.play(plays_at, mulaw)
        if self._response_first is None:
            self._response_first = now
            self._response_started.set()

    def _on_control(self, now: float, message: str | bytes) -> None:
        super()._on_control(now, message)
        if json.loads(message).get("event") == "clear":
            self.timeline.clears_at.append(now)
            if self._speaker is not None:
                self._speaker.cut(now)
