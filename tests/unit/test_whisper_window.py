"""The rules around one Whisper decode: its window, its token cap, the loop trim, the gate."""

from __future__ import annotations

import pytest

from app.providers.whisper.window import (
    HOP_SAMPLES,
    MAX_WINDOW_S,
    SAMPLE_RATE,
    TAIL_PADDING_S,
    continuation,
    find_loop,
    is_no_speech,
    max_speech_samples,
    token_cap,
    trim_repetition,
    window_samples,
)

pytestmark = pytest.mark.unit


def test_the_window_is_the_utterance_and_its_silent_tail_not_thirty_seconds() -> None:
    two_seconds = 2 * SAMPLE_RATE
    size = window_samples(two_seconds)
    assert size / SAMPLE_RATE == pytest.approx(2 + TAIL_PADDING_S, abs=0.02)
    assert size < MAX_WINDOW_S * SAMPLE_RATE / 5


def test_the_window_holds_an_even_number_of_log_mel_frames() -> None:
    for samples in (1, 159, 160, 161, 16_000, 16_123, 33_333):
        size = window_samples(samples)
        assert size % HOP_SAMPLES == 0
        assert (size // HOP_SAMPLES) % 2 == 0
        assert size >= samples


def test_the_window_never_passes_what_the_encoder_reads() -> None:
    assert window_samples(60 * SAMPLE_RATE) == MAX_WINDOW_S * SAMPLE_RATE
    assert window_samples(max_speech_samples()) <= MAX_WINDOW_S * SAMPLE_RATE


def test_the_token_cap_grows_with_the_audio() -> None:
    assert token_cap(0.0) == 8
    assert token_cap(1.0) == 14
    assert token_cap(5.0) == 38
    assert token_cap(-1.0) == 8


def test_a_question_looped_to_the_cap_is_kept_once() -> None:
    looped = "What are your opening hours on Saturday? What are your"
    assert trim_repetition(looped, truncated=True) == "What are your opening hours on Saturday?"


def test_a_full_repeat_is_kept_once_even_when_the_decode_ended_by_itself() -> None:
    twice = "Please cancel my order. Please cancel my order."
    assert trim_repetition(twice) == "Please cancel my order."


def test_a_one_word_stammer_loop_is_kept_once() -> None:
    assert trim_repetition("What? What? What", truncated=True) == "What?"
    assert trim_repetition("Thank you. Thank you. Thank you.") == "Thank you."


def test_a_word_said_twice_is_not_a_loop() -> None:
    assert trim_repetition("No, no, I meant Tuesday.") == "No, no, I meant Tuesday."
    assert trim_repetition("It was very very good") == "It was very very good"


def test_a_restart_followed_by_new_words_is_not_trimmed() -> None:
    restart = "I would like to, I would like to book a cleaning"
    assert trim_repetition(restart) == restart


def test_a_partial_repeat_counts_only_when_the_cap_cut_the_decode() -> None:
    ending = "Can I book on Tuesday? Can I book"
    assert trim_repetition(ending) == ending
    assert trim_repetition(ending, truncated=True) == "Can I book on Tuesday?"


def test_a_loop_after_real_words_keeps_the_words_and_one_copy() -> None:
    text = "Yes, I need a cleaning for Tuesday, Tuesday, Tuesday, Tuesday"
    assert trim_repetition(text, truncated=True) == "Yes, I need a cleaning for Tuesday,"


def test_loops_compare_words_without_case_or_punctuation() -> None:
    loop = find_loop(["hello.", "Hello,", "HELLO", "hello"], truncated=False)
    assert loop is not None
    assert (loop.start, loop.period) == (0, 1)


def test_empty_output_is_left_alone() -> None:
    assert trim_repetition("") == ""
    assert trim_repetition("   ", truncated=True) == ""


@pytest.mark.parametrize(
    ("no_speech_prob", "avg_logprob"),
    [(0.99, -1.7), (0.93, -0.7), (0.8, -3.9), (0.65, -1.5)],  # silence, clicks, hum, noise
)
def test_what_the_model_judges_no_speech_gives_no_words(
    no_speech_prob: float, avg_logprob: float
) -> None:
    assert is_no_speech(no_speech_prob, avg_logprob)


@pytest.mark.parametrize(
    ("no_speech_prob", "avg_logprob"),
    # yes, no, okay; sure words after a pause; a word the model doubts but hears as speech
    [(0.54, -1.84), (0.29, -1.85), (0.3, -1.69), (0.8, -0.4), (0.1, -3.0)],
)
def test_short_answers_and_sure_words_pass_the_gate(
    no_speech_prob: float, avg_logprob: float
) -> None:
    assert not is_no_speech(no_speech_prob, avg_logprob)


@pytest.mark.parametrize(
    ("earlier", "sentence", "new", "recut"),
    [
        # A pause cut a word: the earlier reading's edge was misheard and is heard again.
        ("How much does it", "How much does shipping cost?", "shipping cost?", True),
        ("Where in your near?", "Where is your nearest store?", "nearest store?", True),
        # A hesitation between words: the earlier reading stands.
        ("I'd like to book.", "I'd like to book for Tuesday.", "for Tuesday.", False),
        # Nothing new: the whole window was heard as the earlier words.
        ("Hello.", "Hello.", "", False),
        # No word shared: all of it is new.
        ("yes", "No, I want Tuesday.", "No, I want Tuesday.", True),
        # A word said in both parts counts once, at its place in the earlier words.
        ("I want", "I want it, I want it now", "it, I want it now", False),
    ],
)
def test_a_continued_sentence_yields_the_words_after_the_earlier_ones(
    earlier: str, sentence: str, new: str, recut: bool
) -> None:
    found = continuation(earlier, sentence)
    assert (found.words, found.recut) == (new, recut)
