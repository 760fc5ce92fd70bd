"""Collects the caller's keypad digits (DTMF) into one entry: ended by `#` or a pause."""

from __future__ import annotations


class KeypadEntry:
    def __init__(self, pause_s: float) -> None:
        self._pause_s = pause_s
        self._digits = ""
        self._last_at: float | None = None

    def press(self, digit: str, now: float) -> str | None:
        """Add a digit; returns the whole entry when `#` completes it."""
        self._digits += digit
        self._last_at = now
        return self.take() if digit == "#" else None

    def due(self, now: float) -> str | None:
        """The entry, once the caller has paused long enough after the last digit."""
        if self._last_at is not None and now - self._last_at >= self._pause_s:
            return self.take()
        return None

    def take(self) -> str | None:
        digits, self._digits, self._last_at = self._digits, "", None
        return digits or None
