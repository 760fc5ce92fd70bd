"""Decides when the caller's turn is over, from silence, STT finals and what was said."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A turn that ends on one of these is probably not finished ("I'd like to book and ...").
DANGLING_WORDS = frozenset(
    {
        "and", "but", "or", "so", "because", "for", "to", "with", "the", "a", "an", "of",
        "in", "on", "at", "um", "uh", "er", "erm", "hmm", "like", "my", "your", "if",
        "then", "that", "which", "about", "from", "is", "was", "i", "i'm", "we",
    }
)  # fmt: skip
_LAST_WORD = re.compile(r"([\w']+)\W*$")


@dataclass(frozen=True, slots=True)
class EndOfTurnWindows:
    default_ms: int
    complete_ms: int
    incomplete_ms: int


def end_of_turn_window_ms(text: str, windows: EndOfTurnWindows) -> int:
    """How long a silence ends a turn that has said `text` so far."""
    stripped = text.strip()
    if not stripped:
        return windows.default_ms
    if stripped[-1] in "?!":
        return windows.complete_ms
    match = _LAST_WORD.search(stripped.lower())
    if stripped[-1] in ",-" or (match is not None and match.group(1) in DANGLING_WORDS):
        return windows.incomplete_ms
    if stripped[-1] == ".":
        return windows.complete_ms
    return windows.default_ms


class UserTurn:
    """The caller's words of the turn in progress, final segments and the latest interim."""

    def __init__(self) -> None:
        self.finals: list[str] = []
        self.interim = ""
        self.awaiting_final = False
        self.finalize_requested_ms: int | None = None
        self.first_speech_ms: int | None = None
        self.final_received_wall: float | None = None

    @property
    def text(self) -> str:
        return " ".join(part for part in self.finals if part).strip()

    def text_with_interim(self) -> str:
        return " ".join(part for part in [*self.finals, self.interim] if part).strip()

    def is_empty(self) -> bool:
        return not self.text and not self.interim and not self.awaiting_final

    def prepend(self, earlier_text: str) -> None:
        """Carry words of an abandoned turn into this one (the caller was not finished)."""
        if earlier_text:
            self.finals.insert(0, earlier_text)
