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
decides onsets, not every frame. A measurement counts only once the caller has not started
speaking for a short probation: the first frames of a caller's speech, before the VAD calls it
speech, would otherwise pass for a loud echo and make the gate shut the caller out.
"""

from __future__ import annotations

from collections import deque

# How far above the loudest echo seen caller audio must be, and how many measurements of the
# line it takes before they replace the assumed loss (half a second of agent speech).
MARGIN_DB = 6.0
MEASUREMENTS_NEEDED = 25
MEASUREMENTS_KEPT = 250
# The quietest 10% of measurements: the echo at its strongest, so the gate errs on the side of
# not mistaking echo for the caller.
STRONG_ECHO_QUANTILE = 0.1
# Audio this quiet (digital silence, a line's noise floor) inside a caller's onset that has
# already passed the gate is left to the VAD. Its score of a frame lags (its window, its
# smoothing), so a silent frame inside a word's onset (the closure of the "c" in "actually")
# still scores as speech; gating it broke the caller's start run and delayed the agent's yield
# by a run (measured: 80 ms in 2 of 12 interruptions). Such a frame cannot start speech: the
# echo of the agent's pauses is this quiet too, and Silero's smoothing would carry it.
QUIET_DBFS = -70.0
# A measurement waits this long before it counts: long enough for a caller's onset to become
# speech (the VAD's start run and its lag), which throws the waiting measurements away.
PROBATION_S = 0.4


class EchoGate:
    def __init__(self, suppression_db: float, tail_ms: int) -> None:
        self._suppression_db = suppression_db
        self._tail_s = tail_ms / 1000
        self._played: deque[tuple[float, float]] = deque()  # (plays at, level dBFS)
        self._heard: deque[tuple[float, float]] = deque()  # (arrived at, level dBFS)
        self._losses: deque[float] = deque(maxlen=MEASUREMENTS_KEPT)
        self._pending: deque[tuple[float, float]] = deque()  # (measured at, loss dB)
        self._caller_spoke_at: float | None = None

    def agent_frame(self, level_dbfs: float, plays_at: float) -> None:
        """An agent frame that the caller's side starts playing at `plays_at`."""
        self._played.append((plays_at, level_dbfs))

    def forget_unplayed(self, now: float) -> None:
        """The agent stopped: frames due to play after `now` never will, so cannot echo."""
        while self._played and self._played[-1][0] > now:
            self._played.pop()

    def caller_speaking(self, now: float) -> None:
        """The caller is talking: the line measures them, not the echo, for a while."""
        self._caller_spoke_at = now
        self._pending.clear()

    def is_echo(
        self, caller_level_dbfs: float, now: float, *, caller_silent: bool, in_onset: bool = False
    ) -> bool:
        """Whether caller audio at this level, now, could be the agent's own audio returning.

        `caller_silent`: the VAD hears no voice now, so the line's audio may measure its echo.
        `in_onset`: the caller's voice has begun (frames that passed the gate) but is not yet
        speech; a quiet frame then belongs to it.
        """
        if self._suppression_db <= 0:
            return False
        self._heard.append((now, caller_level_dbfs))
        while self._heard[0][0] < now - self._tail_s:
            self._heard.popleft()
        loudest = self._loudest(now)
        if loudest is None:
            return False
        while self._pending and self._pending[0][0] <= now - PROBATION_S:
            self._losses.append(self._pending.popleft()[1])
        spoke = self._caller_spoke_at
        if caller_silent and (spoke is None or now - spoke > self._tail_s):
            self._pending.append((now, loudest - max(level for _, level in self._heard)))
        if in_onset and caller_level_dbfs <= QUIET_DBFS:
            return False
        return caller_level_dbfs < loudest - self.loss_db() + MARGIN_DB

    def loss_db(self) -> float:
        """How much quieter the agent's echo returns: measured on this line, else assumed."""
        if len(self._losses) < MEASUREMENTS_NEEDED:
            return self._suppression_db + MARGIN_DB
        ordered = sorted(self._losses)
        return ordered[int(len(ordered) * STRONG_ECHO_QUANTILE)]

    def _loudest(self, now: float) -> float | None:
        while self._played and self._played[0][0] < now - self._tail_s:
            self._played.popleft()
        return max((level for at, level in self._played if at <= now), default=None)
