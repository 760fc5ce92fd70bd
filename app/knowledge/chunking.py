"""A document's text cut into overlapping passages for retrieval.

Passages follow paragraph and sentence boundaries where they can, up to `max_chars`; each one
starts with the last `overlap_chars` (whole words) of the one before, so a fact cut at a
boundary is whole in one of them.
"""

from __future__ import annotations

import re

MAX_CHARS = 800
OVERLAP_CHARS = 150

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _pieces(text: str, max_chars: int) -> list[str]:
    """Paragraphs, split into sentences, split into words where a sentence is still too long."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            pieces.append(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > max_chars:
                cut = sentence.rfind(" ", 0, max_chars)
                cut = cut if cut > 0 else max_chars
                pieces.append(sentence[:cut])
                sentence = sentence[cut:].lstrip()
            if sentence:
                pieces.append(sentence)
    return pieces


def _tail(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    tail = text[-chars:]
    space = tail.find(" ")
    return tail[space + 1 :] if space >= 0 else tail


def chunk_text(
    text: str, max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS
) -> list[str]:
    """The passages of `text` in order; none longer than `max_chars` plus the overlap."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, max_chars):
        if current and len(current) + 1 + len(piece) > max_chars:
            chunks.append(current)
            overlap = _tail(current, overlap_chars) if overlap_chars else ""
            current = f"{overlap} {piece}".strip() if overlap else piece
        else:
            current = f"{current} {piece}".strip() if current else piece
    if current:
        chunks.append(current)
    return chunks
