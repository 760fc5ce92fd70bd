"""Decides when the caller's turn is over, from silence, STT finals and what was said."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from app.config.agent import AgentConfig
from app.providers.base import Transcript

# A turn that ends on one of these is probably not finished ("I'd like to book and ...").
DANGLING_WORDS = frozenset(
    {
        "and", "but", "or", "so", "because", "for", "to", "with", "the", "a", "an", "of",
        "in", "on", "at", "um", "uh", "er", "erm", "hmm", "like", "my", "your", "if",
        "then", "that", "which", "about", "from", "is", "was", "i", "i'm", "we",
    }
)  # fmt: skip
_LAST_WORD = re.compile(r"([\w']+)\W*$")
# A sentence that opens with one of these asks something ("How much does it cost", "Do you
# open on Sunday"): a recognizer that writes no punctuation, or a period (Whisper often does),
# still gives a question the short window.
QUESTION_OPENERS = frozenset(
    {
        "what", "what's", "where", "where's", "when", "why", "who", "who's", "which", "how",
        "how's", "can", "could", "would", "will", "do", "does", "did", "is", "are", "was",
        "were", "have", "has", "should", "may", "shall",
    }
)  # fmt: skip
# Fewer words than this are not taken for a question by their form ("How about", "Is it").
QUESTION_MIN_WORDS = 3
_SENTENCES = re.compile(r"(?<=[.?!])\s+")


@dataclass(frozen=True, slots=True)
class EndOfTurnWindows:
    default_ms: int
    complete_ms: int
    incomplete_ms: int

    @classmethod
    def for_agent(cls, config: AgentConfig) -> EndOfTurnWindows:
        velox = config.velox
        return cls(
            velox.end_of_turn_silence_ms,
            velox.end_of_turn_complete_ms,
            velox.end_of_turn_incomplete_ms,
        )


def end_of_turn_window_ms(
    text: str, windows: EndOfTurnWindows, *, recognizer_ended: bool = False
) -> int:
    """How long a silence ends a turn that has said `text` so far.

    Only a question (or an exclamation) is surely finished, by its mark or by its form (a
    recognizer may drop the mark); a statement may be a thinking pause away from its second half
    ("I'd like to book ... for Tuesday"), so it waits the default, unless the recognizer itself
    says the utterance ended (Deepgram's endpointing): then it is treated as finished. Words left
    dangling always wait longest.
    """
    stripped = text.strip()
    if not stripped:
        return windows.default_ms
    if stripped[-1] in "?!":
        return windows.complete_ms
    match = _LAST_WORD.search(stripped.lower())
    if stripped[-1] in ",-" or (match is not None and match.group(1) in DANGLING_WORDS):
        return windows.incomplete_ms
    if recognizer_ended or asks(stripped):
        return windows.complete_ms
    return windows.default_ms


def asks(text: str) -> bool:
    """Whether the last sentence of `text` has a question's form, whatever ends it."""
    words = _SENTENCES.split(text.strip())[-1].lower().split()
    return len(words) >= QUESTION_MIN_WORDS and words[0].strip("\"'(,") in QUESTION_OPENERS


class TurnState(Enum):
    LISTENING = "listening"  # the caller may still be talking, or a final is on its way
    NOISE = "noise"  # sound but no words: not a turn
    ENDED = "ended"


# After asking STT for a final, how long to wait for it before using the interim text.
FINAL_WAIT_CAP_MS = 2500


class UserTurn:
    """The caller's words of the turn in progress, final segments and the latest interim."""

    def __init__(self) -> None:
        self.finals: list[str] = []
        self.interim = ""
        self.awaiting_final = False
        self.finalize_requested_ms: int | None = None
        self.first_speech_ms: int | None = None
        self.final_received_wall: float | None = None
        self.final_overdue = False
        self.recognizer_ended = False  # the recognizer's own end-of-utterance, since the last words
        self.recognizer_lost = False  # the recognizer failed while this turn was being heard

    @property
    def text(self) -> str:
        return " ".join(part for part in self.finals if part).strip()

    def is_empty(self) -> bool:
        return not self.text and not self.interim and not self.awaiting_final

    def add(self, transcript: Transcript, *, media_ms: int, now: float) -> None:
        text = transcript.text.strip()
        if self.first_speech_ms is None and text:
            self.first_speech_ms = media_ms
        if not transcript.is_final:
            self.interim = text
            self.recognizer_ended = False
            return
        self.recognizer_ended = transcript.end_of_speech or (self.recognizer_ended and not text)
        self.interim = ""
        self.awaiting_final = False
        self.final_received_wall = now
        if text and not self._revise(transcript):
            self.finals.append(text)

    def _revise(self, transcript: Transcript) -> bool:
        """Take a continued sentence heard whole in place of the words it revises, when this
        turn ends with them (they may belong to a turn already answered: then not)."""
        revises, sentence = transcript.revises.strip(), transcript.sentence.strip()
        said = self.text
        if not revises or not sentence or not (said == revises or said.endswith(" " + revises)):
            return False
        before = said[: len(said) - len(revises)].strip()
        self.finals = [before, sentence] if before else [sentence]
        return True

    def lose_recognizer(self, media_ms: int) -> None:
        """The recognizer failed mid-turn: its interim stands as the words heard, no final is
        awaited, and a turn without words is one the agent must ask to hear again."""
        self.recognizer_lost = True
        self.awaiting_final = False
        if self.interim:
            self.finals.append(self.interim)
            self.interim = ""
        if self.first_speech_ms is None:
            self.first_speech_ms = media_ms

    def state(
        self, *, in_speech: bool, now_ms: int, silence_ms: int, windows: EndOfTurnWindows
    ) -> TurnState:
        """Whether the turn has ended, in media time; takes an overdue interim as final."""
        if in_speech or self.first_speech_ms is None:
            return TurnState.LISTENING
        if self.awaiting_final:
            if now_ms - (self.finalize_requested_ms or 0) < FINAL_WAIT_CAP_MS:
                return TurnState.LISTENING
            self.awaiting_final = False
            self.final_overdue = True
            if self.interim:
                self.finals.append(self.interim)
                self.interim = ""
        if not self.text:
            return TurnState.NOISE
        window = end_of_turn_window_ms(self.text, windows, recognizer_ended=self.recognizer_ended)
        if silence_ms < window:
            return TurnState.LISTENING
        return TurnState.ENDED

    def prepend(self, earlier_text: str) -> None:
        """Carry words of an abandoned turn into this one (the caller was not finished)."""
        if earlier_text:
            self.finals.insert(0, earlier_text)
