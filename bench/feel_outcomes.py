"""What each conversational-feel probe did, read off the wire and out of the saved call.

The wire (the caller's view) gives the timings: the probe's first and last frames sent, every
agent frame and `clear` received. The saved conversation (`GET /v1/convai/conversations/{id}`)
gives the outcome: the turns (was the answer `interrupted`, did the probe become a user turn)
and the call events (`agent_yielded`, `agent_resumed`, `barge_in`, `premature_end_of_turn`, ...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.feel_line import Timeline
from bench.feel_probes import Probe
from bench.phone_line import FRAME_S
from bench.stats import Summary, summarize

# A clear this long after the probe ended is not the probe's doing.
YIELD_WINDOW_S = 2.0
HESITATION_STOP_MS = 200.0


@dataclass(slots=True)
class ProbeCall:
    """One call with one probe: what was sent when, what came back, and the saved call."""

    probe: Probe
    number: int
    timeline: Timeline = field(default_factory=Timeline)
    question_sent: tuple[float, float] | None = None  # first and last frame send times
    probe_sent: tuple[float, float] | None = None
    answer_first_at: float | None = None  # the answer's first frame received
    hesitation_frames: tuple[int, int] = (0, 0)  # first half's frames, second half's offset
    conversation_id: str = ""
    saved: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    # --- the saved call ---------------------------------------------------------------------

    @property
    def turns(self) -> list[dict[str, Any]]:
        return list(self.saved.get("transcript", []))

    @property
    def user_turns(self) -> list[str]:
        return [t["message"] for t in self.turns if t["role"] == "user"]

    @property
    def events(self) -> list[dict[str, Any]]:
        return list((self.saved.get("velox") or {}).get("events", []))

    def event_kinds(self) -> Counter[str]:
        return Counter(e["kind"] for e in self.events)

    @property
    def model_failed(self) -> bool:
        """Whether the language model failed an answer (a timeout, an error): the caller heard
        the fallback line in its place, which no probe figure counts as a lost reply."""
        return any(
            e["kind"] == "provider_failed" and (e.get("data") or {}).get("role") == "llm"
            for e in self.events
        )

    def event_data(self, kind: str, key: str) -> list[float]:
        return [
            float(e["data"][key])
            for e in self.events
            if e["kind"] == kind and e.get("data", {}).get(key) is not None
        ]

    def answer_turn(self) -> dict[str, Any] | None:
        """The agent turn right after the caller's first turn (the answer that was probed)."""
        turns = self.turns
        first_user = next((i for i, t in enumerate(turns) if t["role"] == "user"), None)
        if first_user is None:
            return None
        return next((t for t in turns[first_user + 1 :] if t["role"] == "agent"), None)

    def question_endpoint_waits(self) -> list[float]:
        """The service's own end-of-turn wait for each turn that ended as a question."""
        return [
            float(t["velox_metrics"]["end_of_speech_to_endpoint_ms"])
            for t in self.turns
            if t["role"] == "user"
            and t["message"].strip().endswith("?")
            and t.get("velox_metrics", {}).get("end_of_speech_to_endpoint_ms") is not None
        ]

    # --- probes said over the answer ---------------------------------------------------------

    @property
    def complete(self) -> bool:
        """The call ran its script and was saved (else it is reported as an error)."""
        if self.error or not self.saved:
            return False
        if self.probe is Probe.HESITATION:
            return self.probe_sent is not None
        if self.probe is Probe.ECHO:
            return self.answer_first_at is not None
        return self.probe_sent is not None

    def clear_for_probe(self) -> float | None:
        """The `clear` the probe caused (for echo: any during the answer)."""
        if self.probe is Probe.ECHO:
            start = self.answer_first_at
            return None if start is None else self.timeline.first_clear_after(start)
        if self.probe_sent is None:
            return None
        clear = self.timeline.first_clear_after(self.probe_sent[0])
        if clear is None or clear > self.probe_sent[1] + YIELD_WINDOW_S:
            return None
        return clear

    def yield_ms(self) -> float | None:
        clear = self.clear_for_probe()
        if clear is None or self.probe_sent is None:
            return None
        return (clear - self.probe_sent[0]) * 1000

    def pause_to_resume_ms(self) -> float | None:
        """The probe's last frame sent → the next agent frame after the `clear` (wire)."""
        clear = self.clear_for_probe()
        if clear is None:
            return None
        resumed = self.timeline.first_media_after(clear)
        if resumed is None:
            return None
        ended = self.probe_sent[1] if self.probe_sent is not None else clear
        return max(0.0, (resumed - ended) * 1000)

    def silence_heard_ms(self) -> float | None:
        """The `clear` → the next agent frame: how long the caller heard nothing."""
        clear = self.clear_for_probe()
        resumed = None if clear is None else self.timeline.first_media_after(clear)
        return None if resumed is None or clear is None else (resumed - clear) * 1000

    def reply_lost(self) -> bool:
        """The answer was dropped, not resumed: cut short in the saved call, or a barge-in."""
        answer = self.answer_turn()
        kinds = self.event_kinds()
        return (
            answer is None
            or bool(answer.get("interrupted"))
            or kinds["barge_in"] > 0
            or kinds["late_interruption"] > 0
        )

    def probe_became_turn(self) -> bool:
        return len(self.user_turns) > 1

    # --- the hesitation ---------------------------------------------------------------------

    def _hesitation_times(self) -> tuple[float, float] | None:
        """When the first half's last frame and the second half's first frame were sent."""
        if self.probe_sent is None:
            return None
        first_frames, second_at = self.hesitation_frames
        start = self.probe_sent[0]
        return start + (first_frames - 1) * FRAME_S, start + second_at * FRAME_S

    def started_in_pause(self) -> bool:
        """Agent audio arrived while the caller paused mid-sentence."""
        times = self._hesitation_times()
        return times is not None and bool(self.timeline.media_between(*times))

    def talked_over_second_half(self) -> bool:
        times = self._hesitation_times()
        if times is None or self.probe_sent is None:
            return False
        return bool(self.timeline.media_between(times[1], self.probe_sent[1]))

    def recovery_ms(self) -> float | None:
        """The caller resuming → the `clear` that stopped the agent's early answer."""
        times = self._hesitation_times()
        if times is None:
            return None
        clear = self.timeline.first_clear_after(times[0])
        return None if clear is None else (clear - times[1]) * 1000

    def early_endpoints(self) -> int:
        """Turns the service ended before the caller finished (it started an answer)."""
        return max(0, self.event_kinds()["user_turn_ended"] - 1)

    def whole_sentence_once(self, halves: tuple[str, str]) -> bool:
        """One user turn with both halves, answered by one agent turn heard in full."""
        users = self.user_turns
        if len(users) != 1 or not all(_has_words(users[0], half) for half in halves):
            return False
        turns = self.turns
        first_user = next(i for i, t in enumerate(turns) if t["role"] == "user")
        answers = [t for t in turns[first_user + 1 :] if t["role"] == "agent"]
        return len(answers) == 1 and not answers[0].get("interrupted")


def _has_words(text: str, half: str) -> bool:
    """Whether `text` has at least half of `half`'s words (Whisper mishears some of espeak's)."""
    said = {w.strip(".,?!").lower() for w in text.split()}
    wanted = [w.lower() for w in half.split()]
    return 2 * sum(w in said for w in wanted) >= len(wanted)


# --- per kind -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KindFigures:
    """A probe kind over its calls."""

    probe: Probe
    calls: int  # complete calls (the probe was said and the call saved)
    errors: int
    yields: int
    lost: int
    became_turns: int
    yield_ms: Summary
    pause_to_resume_ms: Summary  # wire
    server_pause_to_resume_ms: Summary  # `agent_resumed` events
    silence_heard_ms: Summary
    events: Counter[str]

    @property
    def lost_share(self) -> float:
        return self.lost / self.calls if self.calls else float("nan")


def kind_figures(probe: Probe, calls: Sequence[ProbeCall]) -> KindFigures:
    mine = [c for c in calls if c.probe is probe]
    done = [c for c in mine if c.complete]
    events: Counter[str] = Counter()
    for call in done:
        events.update(call.event_kinds())
    return KindFigures(
        probe=probe,
        calls=len(done),
        errors=len(mine) - len(done),
        yields=sum(c.clear_for_probe() is not None for c in done),
        lost=sum(c.reply_lost() for c in done),
        became_turns=sum(c.probe_became_turn() for c in done),
        yield_ms=summarize(_present(c.yield_ms() for c in done)),
        pause_to_resume_ms=summarize(_present(c.pause_to_resume_ms() for c in done)),
        server_pause_to_resume_ms=summarize(
            [x for c in done for x in c.event_data("agent_resumed", "pause_to_resume_ms")]
        ),
        silence_heard_ms=summarize(_present(c.silence_heard_ms() for c in done)),
        events=events,
    )


@dataclass(frozen=True, slots=True)
class HesitationFigures:
    calls: int
    errors: int
    started_in_pause: int
    talked_over_second_half: int
    early_endpoints: int  # calls where the service ended the turn in the pause
    taken_back: int  # `premature_end_of_turn` events
    stopped_in_time: int  # of the calls that started in the pause
    recovery_ms: Summary
    server_recovery_ms: Summary
    whole_once: int
    llm_once: int

    @property
    def started_share(self) -> float:
        return self.started_in_pause / self.calls if self.calls else float("nan")


def hesitation_figures(calls: Sequence[ProbeCall], halves: tuple[str, str]) -> HesitationFigures:
    mine = [c for c in calls if c.probe is Probe.HESITATION]
    done = [c for c in mine if c.complete]
    started = [c for c in done if c.started_in_pause()]
    recoveries = _present(c.recovery_ms() for c in started)
    return HesitationFigures(
        calls=len(done),
        errors=len(mine) - len(done),
        started_in_pause=len(started),
        talked_over_second_half=sum(c.talked_over_second_half() for c in done),
        early_endpoints=sum(c.early_endpoints() > 0 for c in done),
        taken_back=sum(c.event_kinds()["premature_end_of_turn"] for c in done),
        stopped_in_time=sum(r <= HESITATION_STOP_MS for r in recoveries),
        recovery_ms=summarize(recoveries),
        server_recovery_ms=summarize(
            [x for c in done for x in c.event_data("premature_end_of_turn", "recovery_ms")]
        ),
        whole_once=sum(c.whole_sentence_once(halves) for c in done),
        llm_once=sum(c.event_kinds()["user_turn_ended"] == 1 for c in done),
    )


def question_endpoint_waits(calls: Sequence[ProbeCall]) -> Summary:
    return summarize([x for c in calls if c.saved for x in c.question_endpoint_waits()])


def _present(values: Any) -> list[float]:
    return [v for v in values if v is not None]
