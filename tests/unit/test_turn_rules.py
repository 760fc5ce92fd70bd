import pytest

from app.engine.speech import SpeechChange, SpeechSegmenter
from app.engine.turns import EndOfTurnWindows, UserTurn, end_of_turn_window_ms
from app.providers.base import Transcript

pytestmark = pytest.mark.unit

WINDOWS = EndOfTurnWindows(default_ms=600, complete_ms=300, incomplete_ms=1200)


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("What time do you open?", 300),
        ("I'd like to book a table.", 600),  # a statement may go on after a pause
        ("I'd like to book a table and", 1200),
        ("for next Tuesday, um", 1200),
        ("my number is", 1200),
        ("I'd like to book a table", 600),
        # A question by its form, its mark dropped or a period written (Whisper does both).
        ("How much does it", 300),
        ("Do you deliver on weekends.", 300),
        ("Hi there. Where is your nearest store", 300),
        ("What are you opening hour", 300),
        ("Can I book for", 1200),  # still dangling
        ("Where is your nearest store,", 1200),
        ("How come", 600),  # too short to tell
        ("I came to my order", 600),
        ("Is it. I'd like a table", 600),  # the last sentence counts
    ],
)
def test_end_of_turn_window_follows_what_was_said(text: str, window: int) -> None:
    assert end_of_turn_window_ms(text, WINDOWS) == window


def run(segmenter: SpeechSegmenter, probabilities: list[float]) -> list[SpeechChange | None]:
    return [segmenter.push(p) for p in probabilities]


def test_speech_starts_only_after_the_minimum_run_of_speech_frames() -> None:
    segmenter = SpeechSegmenter()
    changes = run(segmenter, [0.9, 0.9, 0.1, 0.9, 0.9, 0.9])
    assert changes == [None, None, None, None, None, SpeechChange.STARTED]
    assert segmenter.speech_started_ms == 60


def test_short_gaps_between_words_do_not_pause_speech() -> None:
    segmenter = SpeechSegmenter()
    run(segmenter, [0.9] * 5)
    changes = run(segmenter, [0.1] * 5 + [0.9] * 3)
    assert SpeechChange.PAUSED not in changes
    assert segmenter.in_speech


def test_pause_comes_after_the_pause_window_and_silence_counts_from_last_speech() -> None:
    segmenter = SpeechSegmenter()
    run(segmenter, [0.9] * 10)
    changes = run(segmenter, [0.0] * 8)
    assert changes[-1] is SpeechChange.PAUSED
    assert segmenter.silence_ms() == 160
    assert segmenter.speech_duration_ms() == 0


def test_a_statement_the_recognizer_says_is_over_ends_as_soon_as_a_question() -> None:
    statement = "I'd like to book a table."
    assert end_of_turn_window_ms(statement, WINDOWS, recognizer_ended=True) == 300
    assert end_of_turn_window_ms("a table for", WINDOWS, recognizer_ended=True) == 1200


def _final(text: str, *, sentence: str = "", revises: str = "") -> Transcript:
    return Transcript(text, is_final=True, sentence=sentence, revises=revises)


def test_a_sentence_heard_again_whole_replaces_the_words_it_revises() -> None:
    turn = UserTurn()
    turn.add(_final("How much does it"), media_ms=0, now=0.0)
    turn.add(
        _final(
            "shipping cost?",
            sentence="How much does shipping cost?",
            revises="How much does it",
        ),
        media_ms=900,
        now=1.0,
    )
    assert turn.text == "How much does shipping cost?"
    # The question mark is back: the turn may end after the short window.
    assert end_of_turn_window_ms(turn.text, WINDOWS) == WINDOWS.complete_ms


def test_words_said_before_the_revised_sentence_are_kept() -> None:
    turn = UserTurn()
    turn.prepend("Hi.")
    turn.add(_final("Where in your near?"), media_ms=0, now=0.0)
    revision = _final(
        "nearest store?", sentence="Where is your nearest store?", revises="Where in your near?"
    )
    turn.add(revision, media_ms=900, now=1.0)
    assert turn.text == "Hi. Where is your nearest store?"


def test_a_revision_of_words_this_turn_does_not_end_with_only_adds_the_new_words() -> None:
    # The revised words were an earlier turn's, answered already: they are not taken back here.
    turn = UserTurn()
    revision = _final(
        "for Tuesday", sentence="I'd like to book for Tuesday", revises="I'd like to book"
    )
    turn.add(revision, media_ms=0, now=0.0)
    assert turn.text == "for Tuesday"
    other = UserTurn()
    other.add(_final("I'd like a booking"), media_ms=0, now=0.0)
    other.add(_final("now", sentence="king now", revises="king"), media_ms=500, now=0.5)
    assert other.text == "I'd like a booking now"
