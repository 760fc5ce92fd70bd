"""Retrieval with the real all-MiniLM-L6-v2 (run with numpy): paraphrased questions find the
passage that answers them."""

from __future__ import annotations

import numpy as np
import pytest

from app.config.knowledge import RagSettings
from app.knowledge.minilm import DIMENSIONS, shared_model
from app.knowledge.retrieval import ChunkMatrix
from tests.knowledge_set import PASSAGES, QUESTIONS

pytestmark = pytest.mark.models


def _matrix() -> ChunkMatrix:
    vectors = shared_model().embed(PASSAGES)
    ids = [f"chunk_{n}" for n in range(len(PASSAGES))]
    return ChunkMatrix("v1", ids, ["kb_1"] * len(ids), list(PASSAGES), vectors)


def test_embeddings_are_unit_vectors_and_a_paraphrase_is_nearer_than_another_topic() -> None:
    model = shared_model()
    happy, very_happy, dog, sunny = model.embed(
        [
            "That is a happy person",
            "That is a very happy person",
            "That is a happy dog",
            "Today is a sunny day",
        ]
    )

    assert happy.shape == (DIMENSIONS,)
    assert np.linalg.norm(happy) == pytest.approx(1.0, abs=1e-5)
    assert happy @ very_happy > happy @ dog > happy @ sunny


def test_a_batch_embeds_each_text_as_it_would_alone() -> None:
    model = shared_model()
    texts = ["short", "a much longer sentence that needs padding in a batch with the short one"]

    together = model.embed(texts)
    alone = np.stack([model.embed([text])[0] for text in texts])

    assert np.allclose(together, alone, atol=1e-5)


def test_paraphrased_questions_find_their_passage_in_the_top_three() -> None:
    matrix = _matrix()
    rag = RagSettings(enabled=True, max_retrieved_rag_chunks_count=3, max_vector_distance=2.0)
    queries = shared_model().embed([question for question, _ in QUESTIONS])

    hits = [
        f"chunk_{answer}" in [chunk.id for chunk in matrix.search(query, rag)]
        for query, (_, answer) in zip(queries, QUESTIONS, strict=True)
    ]

    recall = sum(hits) / len(hits)
    assert recall >= 0.9, f"recall@3 {recall:.2f}"


def test_search_keeps_to_the_distance_count_and_length_limits() -> None:
    matrix = _matrix()
    query = shared_model().embed(["how far can the Velo 3 go on one charge"])[0]

    nearest = matrix.search(query, RagSettings(max_retrieved_rag_chunks_count=1))
    close_only = matrix.search(
        query, RagSettings(max_retrieved_rag_chunks_count=20, max_vector_distance=0.5)
    )
    short = matrix.search(
        query,
        RagSettings(
            max_retrieved_rag_chunks_count=20, max_documents_length=400, max_vector_distance=2.0
        ),
    )

    assert [chunk.id for chunk in nearest] == ["chunk_6"]
    assert all(chunk.distance <= 0.5 for chunk in close_only)
    assert [c.distance for c in close_only] == sorted(c.distance for c in close_only)
    assert sum(len(chunk.text) for chunk in short) <= 400
