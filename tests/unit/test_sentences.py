import pytest

from app.providers.sentences import SentenceAggregator

pytestmark = pytest.mark.unit


def feed(text: str, step: int = 3) -> list[str]:
    aggregator = SentenceAggregator()
    out: list[str] = []
    for i in range(0, len(text), step):
        out += aggregator.push(text[i : i + step])
    rest = aggregator.flush()
    return out + ([rest] if rest else [])


def test_sentences_are_cut_at_terminal_punctuation_as_soon_as_they_complete() -> None:
    aggregator = SentenceAggregator()
    assert aggregator.push("Hello there. How") == ["Hello there."]
    assert aggregator.push(" are you? I'm") == ["How are you?"]
    assert aggregator.flush() == "I'm"


def test_a_sentence_is_not_cut_until_the_next_character_shows_it_ended() -> None:
    aggregator = SentenceAggregator()
    assert aggregator.push("It costs 3.") == []
    assert aggregator.push("5 dollars. Ok") == ["It costs 3.5 dollars."]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = "Dr. Smith and J. Doe meet at 10 a.m. on Main St. today. Bring your ID, e.g. a passport."
    assert feed(text) == [
        "Dr. Smith and J. Doe meet at 10 a.m. on Main St. today.",
        "Bring your ID, e.g. a passport.",
    ]


def test_numbers_and_urls_are_not_cut() -> None:
    assert feed("Pi is 3.14159 roughly. Visit www.example.com now!") == [
        "Pi is 3.14159 roughly.",
        "Visit www.example.com now!",
    ]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert feed('She said "yes." Then left.') == ['She said "yes."', "Then left."]


def test_a_long_clause_is_cut_at_its_last_comma() -> None:
    clause = "When you arrive at the front desk, please tell them your name, " * 3
    pieces = feed(clause + "and they will help.")
    assert len(pieces) > 1
    assert all(len(p) <= 160 for p in pieces)
    assert pieces[0].endswith(",")


def test_the_first_piece_of_an_answer_is_cut_at_its_first_comma_past_a_short_clause() -> None:
    answer = "Yes, we are open on Saturdays, from ten in the morning until two. Call us any time."
    assert feed(answer) == [
        "Yes, we are open on Saturdays,",
        "from ten in the morning until two.",
        "Call us any time.",
    ]
