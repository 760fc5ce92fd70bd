import pytest

from app.engine.speech import SpeechChange, SpeechSegmenter
from app.engine.turns import EndOfTurnWindows, end_of_turn_window_ms

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
