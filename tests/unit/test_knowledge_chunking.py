"""A document's text cut into passages that overlap their neighbours."""

from __future__ import annotations

import itertools

import pytest

from app.knowledge.chunking import chunk_text

pytestmark = pytest.mark.unit


def test_a_short_text_is_one_chunk() -> None:
    assert chunk_text("We open at nine.\n\nWe close at six.") == [
        "We open at nine. We close at six."
    ]


def test_chunks_stay_within_the_size_and_each_starts_with_the_end_of_the_last() -> None:
    text = " ".join(f"Sentence number {n} says something about topic {n}." for n in range(200))

    chunks = chunk_text(text, max_chars=300, overlap_chars=60)

    assert len(chunks) > 5
    assert all(len(chunk) <= 300 + 60 for chunk in chunks)
    for before, after in itertools.pairwise(chunks):
        overlap = after[:40]
        assert overlap in before
    # nothing is lost: every sentence is in some chunk
    assert all(any(f"Sentence number {n} " in chunk for chunk in chunks) for n in range(200))


def test_a_word_longer_than_a_chunk_is_cut_rather_than_lost() -> None:
    chunks = chunk_text("x" * 1000, max_chars=300, overlap_chars=0)

    assert "".join(chunks) == "x" * 1000
