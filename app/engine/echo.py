"""Echo gate: the agent's own voice coming back on the line is not the caller speaking.

Speakerphones and poor echo cancellation return the agent's audio a little later and quieter.
The gate remembers how loud the agent was when each of its frames played and learns how much
quieter its echo comes back on this line (the echo return loss, measured while the agent talks
and the caller does not: the loudest agent frame of the last few hundred milliseconds against
the loudest line audio of the same span, so the quiet gaps between the agent's words do not
pass for a weak echo). Caller audio that is not clearly louder than the echo can be (the
loudest agent frame of the last few hundred milliseconds, less that loss, plus a margin) cannot
start the caller's speech. Until the line has been measured, the agent's `echo_suppression_db`
is the loss assumed. Once the caller is talking, their quieter sounds are theirs: the gate
decides onsets, not every frame.

A caller must never be locked out, so three rules keep the caller's own voice out of what is
learned and bound what the gate may hold:
- Only audio that can be echo is measured. Echo on a phone line returns well below its source
  (G.168 plans for at least 6 dB of loss at the worst hybrid); line audio within that of the
  agent's level, or louder, is the caller talking over the agent (the Geigel double-talk test):
  it is never gated, never measured, and it throws away the measurements still on probation.
  A span where the agent itself is near silence measures nothing either: "silence came back as
  silence" says nothing about an echo (a call's first frames, heard while the greeting's
  leading silence played, once taught a 0 dB echo that locked the caller out).
- A measurement counts only after a probation of the caller's next frames, counted in frames
  and not by the clock, so a stalled event loop cannot let it through before the VAD has heard
  the onset it belongs to.
- A learned loss may make the gate stricter than the agent's setting only briefly: once the
  gate has held what the VAD calls voice for `HOLD_LIMIT_FRAMES`, it decides with the agent's
  own setting until the agent stops talking, and nothing is learned meanwhile.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.audio.formats import FRAME_MS

# How far above the loudest echo seen caller audio must be, and how many measurements of the
# line it takes before they replace the assumed loss (half a second of agent speech).
MARGIN_DB = 6.0
MEASUREMENTS_NEEDED = 25
MEASUREMENTS_KEPT = 250
# The quietest 10% of measurements: the echo at its strongest, so the gate errs on the side of
# not mistaking echo for the caller.
STRONG_ECHO_QUANTILE = 0.1
# The least loss a real echo has: line audio closer than this to the agent's level is the caller.
MIN_ECHO_LOSS_DB = 6.0
# The agent must be at least this loud over the span for the line to measure its echo: speech
# is -10 to -30 dBFS; a lead-in, a fade or a pause is not a source whose echo can be measured.
MEASURABLE_AGENT_DBFS = -40.0
# Audio this quiet (digital silence, a line's noise floor) inside a caller's onset that has
# already passed the gate is left to the VAD. Its score of a frame lags (its window, its
# smoothing), so a silent frame inside a word's onset (the closure of the "c" in "actually")
# still scores as speech; gating it broke the caller's start run and delayed the agent's yield
# by a run (measured: 80 ms in 2 of 12 interruptions). Such a frame cannot start speech: the
# echo of the agent's pauses is this quiet too, and Silero's smoothing would carry it.
QUIET_DBFS = -70.0
# A measurement waits this many caller frames before it counts: long enough for a caller's
# onset to become speech (the VAD's start run and its lag), which throws the waiting ones away.
PROBATION_FRAMES = 400 // FRAME_MS
# The longest the gate holds voiced audio with a learned loss stricter than the agent's setting.
HOLD_LIMIT_FRAMES = 200 // FRAME_MS


@dataclass(frozen=True, slots=True)
class EchoLevels:
    """The figures behind one decision of the gate, for events a support lead can read."""

    loss_db: float
    loss_source: str  # "measured" or "assumed"
    caller_dbfs: float
    agent_dbfs: float
    threshold_dbfs: float

    def as_event(self) -> dict[str, Any]:
        return {
            "loss_db": round(self.loss_db, 1),
            "loss_source": self.loss_source,
            "caller_dbfs": round(self.caller_dbfs, 1),
            "agent_dbfs": round(self.agent_dbfs, 1),
            "threshold_dbfs": round(self.threshold_dbfs, 1),
        }


Report = Callable[..., None]


def _no_report(kind: str, **data: Any) -> None:
    del kind, data


class EchoGate:
    def __init__(self, suppression_db: float, tail_ms: int, report: Report = _no_report) -> None:
        self._suppression_db = suppression_db
        self._tail_s = tail_ms / 1000
        self._tail_frames = max(1, tail_ms // FRAME_MS)
        self._report = report
        self._played: deque[tuple[float, float]] = deque()  # (plays at, level dBFS)
        self._heard: deque[float] = deque(maxlen=self._tail_frames)  # caller frame levels
        self._losses: deque[float] = deque(maxlen=MEASUREMENTS_KEPT)
        self._measured_loss: float | None = None  # the quantile of `_losses`, until it changes
        self._pending: deque[tuple[int, float]] = deque()  # (caller frame, loss dB)
        self._frame = 0
        # Caller frames up to this one may hold the caller's voice: the line measures nothing.
        self._caller_until = -1
        self._held_voiced = 0
        self._released = False
        self.frames_held = 0
        self.double_talk_frames = 0
        self.releases = 0
        self._first_hold_reported = False

    def agent_frame(self, level_dbfs: float, plays_at: float) -> None:
        """An agent frame that the caller's side starts playing at `plays_at`."""
        self._played.append((plays_at, level_dbfs))

    def forget_unplayed(self, now: float) -> None:
        """The agent stopped: frames due to play after `now` never will, so cannot echo."""
        while self._played and self._played[-1][0] > now:
            self._played.pop()

    def caller_speaking(self) -> None:
        """The caller is talking: the line measures them, not the echo, for a while."""
        self._caller_until = self._frame + self._tail_frames
        self._pending.clear()

    def is_echo(
        self, caller_level_dbfs: float, now: float, *, caller_silent: bool, in_onset: bool = False
    ) -> bool:
        """Whether caller audio at this level, now, could be the agent's own audio returning.

        One call per caller frame, in order. `caller_silent`: the VAD hears no voice now, so the
        line's audio may measure its echo. `in_onset`: the caller's voice has begun (frames that
        passed the gate) but is not yet speech; a quiet frame then belongs to it.
        """
        if self._suppression_db <= 0:
            return False
        self._frame += 1
        self._heard.append(caller_level_dbfs)
        loudest = self._loudest(now)
        if loudest is None:
            self._held_voiced = 0
            self._released = False  # the agent stopped: its next turn starts with a clean slate
            return False
        while self._pending and self._pending[0][0] <= self._frame - PROBATION_FRAMES:
            self._losses.append(self._pending.popleft()[1])
            self._measured_loss = None
        if caller_level_dbfs > loudest - MIN_ECHO_LOSS_DB:
            # Double talk: as loud as the agent, or nearly. No echo is; the caller is talking.
            self.double_talk_frames += 1
            self.caller_speaking()
            self._held_voiced = 0
            return False
        if caller_silent:
            self._measure(loudest)
        if in_onset and caller_level_dbfs <= QUIET_DBFS:
            return False
        levels = self._levels(caller_level_dbfs, loudest)
        if caller_level_dbfs >= levels.threshold_dbfs:
            self._held_voiced = 0
            return False
        if not caller_silent:
            self._hold_voiced(levels)
        return True

    def loss_db(self) -> float:
        """How much quieter the agent's echo returns: measured on this line, else assumed."""
        if not self.measured:
            return self.assumed_loss_db
        if self._measured_loss is None:  # asked every frame while the agent speaks: sort once
            ordered = sorted(self._losses)
            self._measured_loss = ordered[int(len(ordered) * STRONG_ECHO_QUANTILE)]
        return self._measured_loss

    @property
    def assumed_loss_db(self) -> float:
        return self._suppression_db + MARGIN_DB

    @property
    def measured(self) -> bool:
        return len(self._losses) >= MEASUREMENTS_NEEDED

    def summary(self) -> dict[str, Any]:
        """The gate's state for the call's metrics."""
        return {
            "loss_db": round(self.loss_db(), 1),
            "loss_source": "measured" if self.measured else "assumed",
            "assumed_loss_db": round(self.assumed_loss_db, 1),
            "measurements": len(self._losses),
            "frames_held": self.frames_held,
            "double_talk_frames": self.double_talk_frames,
            "releases": self.releases,
        }

    def _measure(self, loudest: float) -> None:
        if self._released or self._frame <= self._caller_until or loudest < MEASURABLE_AGENT_DBFS:
            return
        loss = loudest - max(self._heard)
        if loss < MIN_ECHO_LOSS_DB:
            self.caller_speaking()  # the span holds audio as loud as the agent: the caller's
            return
        self._pending.append((self._frame, loss))

    def _levels(self, caller_level_dbfs: float, loudest: float) -> EchoLevels:
        loss, source = self.loss_db(), "measured" if self.measured else "assumed"
        if self._released and loss < self.assumed_loss_db:
            loss, source = self.assumed_loss_db, "assumed"
        return EchoLevels(loss, source, caller_level_dbfs, loudest, loudest - loss + MARGIN_DB)

    def _hold_voiced(self, levels: EchoLevels) -> None:
        """The gate holds what the VAD calls voice: counted, reported once, and bounded."""
        self.frames_held += 1
        self._held_voiced += 1
        if not self._first_hold_reported:
            self._first_hold_reported = True
            self._report("echo_gate", **levels.as_event())
        stricter_than_set = levels.loss_db < self.assumed_loss_db
        if self._held_voiced >= HOLD_LIMIT_FRAMES and stricter_than_set and not self._released:
            self._released = True
            self.releases += 1
            self._pending.clear()
            self._report(
                "echo_gate_released", held_ms=self._held_voiced * FRAME_MS, **levels.as_event()
            )

    def _loudest(self, now: float) -> float | None:
        while self._played and self._played[0][0] < now - self._tail_s:
            self._played.popleft()
        return max((level for at, level in self._played if at <= now), default=None)
