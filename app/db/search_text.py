"""What a search over calls may say, and how each database is asked it.

A search is words, each of which must occur in the call's transcript or its analysis summary;
`"quoted words"` must occur together in that order; a word ending in `*` matches every word it
begins (at least three letters before the `*`). Case does not matter, accents do. Punctuation
inside a chunk of text splits it as the index splits the transcript: `e-mail` is the phrase
`e mail`, `don't` the phrase `don t`.

Characters that are operators in SQL or in the engines' own query languages (`; & | ! ( ) { } [ ]
< > = ^ ~ \\ ``) mean nothing here; a search holding one is refused with the reason rather than
quietly read otherwise. The text never reaches a database as query syntax: each engine's query is
built here from the words alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters and digits, as FTS5's unicode61 tokenizer and PostgreSQL's document (punctuation read
# as spaces) split text into words.
_WORD = re.compile(r"[^\W_]+")
OPERATORS = frozenset(";&|!(){}[]<>=^~\\`")
MAX_SEARCH_CHARS = 200
MAX_WORDS = 20
MIN_PREFIX_CHARS = 3


class InvalidSearchError(ValueError):
    """The search cannot be run as written; `reason` is short and machine-readable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One word, or a phrase's words in order; `prefix`: the last word matches as a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


def parse_search(text: str) -> tuple[SearchTerm, ...]:
    """The terms of `text`, all of which a call must match; empty for a blank search.
    `InvalidSearchError` says what cannot be searched for and why."""
    text = unicodedata.normalize("NFC", text)
    if len(text) > MAX_SEARCH_CHARS:
        raise InvalidSearchError(
            "search_too_long", f"search is {len(text)} characters; at most {MAX_SEARCH_CHARS}"
        )
    for position, char in enumerate(text):
        if char in OPERATORS:
            raise InvalidSearchError(
                "search_syntax",
                f"search: {char!r} (at {position}) is query syntax, which search does not take; "
                'search for words, "a phrase" in double quotes, or a prefix*',
            )
        if unicodedata.category(char) == "Cc" and not char.isspace():
            raise InvalidSearchError(
                "search_syntax", f"search: control character U+{ord(char):04X} at {position}"
            )
    pieces = text.split('"')
    if len(pieces) % 2 == 0:
        raise InvalidSearchError(
            "search_syntax",
            f"search: the double quote at {text.rindex(chr(34))} is never closed; "
            'close the phrase ("like this") or leave the quote out',
        )
    terms: list[SearchTerm] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 1:  # inside quotes: one phrase
            if "*" in piece:
                raise InvalidSearchError(
                    "search_syntax", "search: '*' ends a word outside quotes, not inside a phrase"
                )
            words = _words(piece)
            if words:
                terms.append(SearchTerm(words))
            continue
        terms.extend(term for chunk in piece.split() if (term := _chunk_term(chunk)))
    if not terms and text.strip():
        raise InvalidSearchError("search_syntax", "search has no letter or digit to look for")
    if sum(len(term.words) for term in terms) > MAX_WORDS:
        raise InvalidSearchError("search_too_long", f"search has more than {MAX_WORDS} words")
    return tuple(terms)


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORD.findall(text))


def _chunk_term(chunk: str) -> SearchTerm | None:
    """One whitespace-separated chunk outside quotes: a word, or the phrase its punctuation
    splits it into, a prefix if it ends in `*`; None if it has no letter or digit."""
    prefix = chunk.endswith("*")
    body = chunk[:-1] if prefix else chunk
    if "*" in body:
        raise InvalidSearchError(
            "search_syntax",
            f"search: '*' ends a word (as in refund*), it cannot stand inside {chunk!r}",
        )
    words = _words(body)
    if not words:
        if prefix:
            raise InvalidSearchError(
                "search_syntax",
                f"search: '*' must follow a word of at least {MIN_PREFIX_CHARS} letters",
            )
        return None
    if prefix and (len(words[-1]) < MIN_PREFIX_CHARS or not body[-1:].isalnum()):
        raise InvalidSearchError(
            "search_syntax",
            f"search: a prefix needs at least {MIN_PREFIX_CHARS} letters or digits right before "
            f"the '*' ({chunk!r})",
        )
    return SearchTerm(words, prefix)


def postgres_tsquery(terms: tuple[SearchTerm, ...]) -> str:
    """The terms as `to_tsquery('simple', ...)` input: quoted lexemes, `<->` within a phrase,
    `:*` on a prefix, `&` between terms. The words hold letters and digits only."""
    parts = []
    for term in terms:
        lexemes = [f"'{word}'" for word in term.words]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append(lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def fts5_query(terms: tuple[SearchTerm, ...]) -> str:
    """The terms as an FTS5 MATCH expression: each a quoted string (so AND, NEAR... are words),
    a prefix marked by `*` after it, all required."""
    return " AND ".join(
        '"' + " ".join(term.words) + '"' + (" *" if term.prefix else "") for term in terms
    )
