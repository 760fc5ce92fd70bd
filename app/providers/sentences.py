"""Cuts a stream of LLM tokens into sentences (and long clauses) that TTS can speak at once.

The engine hands a voice its text in these pieces, and the offline model's thread
(`local_cores.py`) reads its replies with the same cuts to know when a caller has a first piece
to hear.
"""

from __future__ import annotations

import re

# Words that end with a period without ending a sentence.
ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ave", "rd", "blvd",
        "vs", "etc", "e.g", "i.e", "approx", "dept", "est", "fig", "inc", "ltd", "co",
        "no", "vol", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "dec", "a.m", "p.m", "u.s", "u.k",
    }
)  # fmt: skip
_TERMINATORS = ".?!"
_CLOSERS = "\"')]”’"
_CLAUSE_BREAKS = ",;:—"
_WORD_BEFORE = re.compile(r"([\w.]+)$")


class SentenceAggregator:
    """Accumulates text deltas and hands back complete sentences as soon as they are complete.

    A sentence ends at `. ? !` followed by white space, except after an abbreviation, a single
    initial or inside a number. A clause longer than `max_clause_chars` is cut at its last comma
    so the voice never waits on one long sentence. The first piece of an answer is cut at the
    first comma past `first_clause_chars`: a short first clause reaches the caller's ear sooner,
    since TTS time to first audio grows with the length of what it is given.
    """

    def __init__(
        self,
        max_clause_chars: int = 140,
        min_clause_chars: int = 40,
        first_clause_chars: int = 24,
    ) -> None:
        self._buffer = ""
        self._max_clause_chars = max_clause_chars
        self._min_clause_chars = min_clause_chars
        self._first_clause_chars = first_clause_chars
        self._emitted = False

    def push(self, text: str) -> list[str]:
        self._buffer += text
        sentences: list[str] = []
        while True:
            cut = self._sentence_end() or self._clause_end()
            if cut is None:
                break
            sentence = self._buffer[:cut].strip()
            self._buffer = self._buffer[cut:].lstrip()
            if sentence:
                sentences.append(sentence)
                self._emitted = True
        return sentences

    def flush(self) -> str:
        """Whatever is left once the LLM is done."""
        rest, self._buffer = self._buffer.strip(), ""
        return rest

    def _sentence_end(self) -> int | None:
        text = self._buffer
        for i, char in enumerate(text):
            if char not in _TERMINATORS:
                continue
            end = i + 1
            while end < len(text) and (text[end] in _TERMINATORS or text[end] in _CLOSERS):
                end += 1
            if end >= len(text):
                return None  # need the next character to know
            if not text[end].isspace():
                continue  # "3.5", "e.g.x", "www.site"
            if char == "." and self._is_abbreviation(text[:i]):
                continue
            return end
        return None

    def _clause_end(self) -> int | None:
        text = self._buffer
        if not self._emitted:
            for i in range(self._first_clause_chars, len(text) - 1):
                if text[i] in _CLAUSE_BREAKS and text[i + 1].isspace():
                    return i + 1
        if len(text) < self._max_clause_chars:
            return None
        for i in range(len(text) - 1, self._min_clause_chars - 1, -1):
            if text[i] in _CLAUSE_BREAKS and i + 1 < len(text) and text[i + 1].isspace():
                return i + 1
        return None

    @staticmethod
    def _is_abbreviation(before: str) -> bool:
        match = _WORD_BEFORE.search(before)
        if match is None:
            return False
        word = match.group(1)
        if len(word) == 1 and word.isalpha() and word.isupper():
            return True  # an initial: "J. Smith"
        return word.lower() in ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """The sentences a whole text is spoken as (the same cuts as a token stream gets)."""
    aggregator = SentenceAggregator()
    sentences = aggregator.push(text)
    rest = aggregator.flush()
    return [*sentences, rest] if rest else sentences
