import pytest

from app.config.agent import AgentConfig
from app.engine.backchannels import is_backchannel, says_any, vocabulary
from app.engine.barge_in import Burst, Decision, decide, may_yield, unheard_answer_verdict

pytestmark = pytest.mark.unit

ENGLISH = vocabulary(AgentConfig()).backchannels


def decision(
    config: AgentConfig | None = None,
    *,
    speech_ms: int = 300,
    in_speech: bool = True,
    words: str = "",
    source: str = "voice",
    caller_pause_ms: float | None = 3000,
) -> Decision:
    config = config or AgentConfig()
    return decide(
        config,
        Burst(speech_ms, in_speech, words),
        source=source,
        caller_pause_ms=caller_pause_ms,
        vocabulary=vocabulary(config),
    )


def test_the_agent_yields_once_the_caller_has_spoken_past_the_minimum() -> None:
    config = AgentConfig()
    assert not may_yield(config, source="voice", speech_ms=40)
    assert may_yield(config, source="voice", speech_ms=60)  # the VAD's start run: at once


def test_agents_can_forbid_barge_in_or_protect_their_greeting() -> None:
    closed = AgentConfig()
    closed.velox.allow_barge_in = False
    assert not may_yield(closed, source="voice", speech_ms=500)
    protected = AgentConfig()
    protected.conversation_config.agent.disable_first_message_interruptions = True
    assert not may_yield(protected, source="greeting", speech_ms=500)
    assert may_yield(protected, source="voice", speech_ms=500)


def test_a_short_burst_that_ends_without_words_resumes_the_reply() -> None:
    assert decision(in_speech=True) is Decision.WAIT
    assert decision(in_speech=False) is Decision.RESUME


def test_a_backchannel_resumes_the_reply_but_interrupting_words_do_not() -> None:
    assert decision(in_speech=False, words="Mm-hmm.") is Decision.RESUME
    assert decision(in_speech=False, words="okay yeah") is Decision.RESUME
    assert decision(in_speech=True, words="wait") is Decision.INTERRUPT
    assert decision(speech_ms=200, in_speech=False, words="no") is Decision.INTERRUPT
    assert decision(speech_ms=300, words="Oh, sorry, can I") is Decision.INTERRUPT
    assert decision(speech_ms=300, words="hold on") is Decision.INTERRUPT


def test_other_words_interrupt_once_the_burst_is_longer_than_a_murmur() -> None:
    # Whisper tiny hears a murmured "mm-hmm" as "and remember.": too short to be a sentence.
    assert decision(speech_ms=540, in_speech=False, words="and remember.") is Decision.RESUME
    assert decision(speech_ms=540, in_speech=True, words="can I") is Decision.WAIT
    assert decision(speech_ms=800, in_speech=True, words="can I") is Decision.INTERRUPT
    assert decision(speech_ms=800, in_speech=True, words="okay okay") is Decision.WAIT
    assert decision(speech_ms=500, in_speech=False, words="Is it free?") is Decision.INTERRUPT
    assert decision(speech_ms=500, in_speech=False, words="Hmm?") is Decision.RESUME
    lenient = AgentConfig()
    lenient.velox.short_burst_ms = 0
    assert decision(lenient, speech_ms=100, words="can") is Decision.INTERRUPT


def test_speech_that_goes_on_is_an_interruption_before_its_words_are_known() -> None:
    assert decision(speech_ms=899) is Decision.WAIT
    assert decision(speech_ms=900) is Decision.INTERRUPT


def test_a_caller_who_resumes_right_after_their_pause_had_not_finished() -> None:
    assert decision(speech_ms=900, caller_pause_ms=800) is Decision.TAKE_BACK
    # Carrying on their sentence, a caller's short words take the turn back too.
    assert decision(speech_ms=300, words="on Tuesday", caller_pause_ms=800) is Decision.TAKE_BACK
    assert decision(speech_ms=300, words="okay", caller_pause_ms=800) is Decision.WAIT
    assert decision(speech_ms=900, caller_pause_ms=1500) is Decision.INTERRUPT
    assert decision(speech_ms=900, caller_pause_ms=800, source="greeting") is Decision.INTERRUPT


def test_an_answer_nobody_heard_yet_is_taken_back_but_a_scripted_line_is_not() -> None:
    assert unheard_answer_verdict("voice") is Decision.TAKE_BACK
    assert unheard_answer_verdict("reprompt") is Decision.WAIT


def test_backchannels_and_interrupting_words_are_per_language_and_per_agent() -> None:
    spanish = AgentConfig()
    spanish.conversation_config.agent.language = "es"
    assert is_backchannel("Sí, vale", vocabulary(spanish).backchannels)
    assert not is_backchannel("Sí, vale", ENGLISH)
    assert says_any("Perdón, una pregunta", vocabulary(spanish).interruptions)
    assert not says_any("Perdón, una pregunta", vocabulary(AgentConfig()).interruptions)
    own = AgentConfig()
    own.velox.backchannel_phrases = ["roger that"]
    own.velox.interruption_phrases = ["negative"]
    assert is_backchannel("Roger that.", vocabulary(own).backchannels)
    assert not is_backchannel("okay", vocabulary(own).backchannels)
    assert says_any("Negative, negative.", vocabulary(own).interruptions)
    assert not says_any("wait", vocabulary(own).interruptions)


def test_interrupting_words_are_whole_words_in_order() -> None:
    interruptions = vocabulary(AgentConfig()).interruptions
    assert says_any("Oh, hold on a second", interruptions)
    assert not says_any("on hold", interruptions)
    assert not says_any("nobody", interruptions)
    assert not says_any("", interruptions)


def test_multi_word_backchannels_and_empty_text_count_as_backchannel() -> None:
    assert is_backchannel("I see, got it.", ENGLISH)
    assert is_backchannel("", ENGLISH)
    assert not is_backchannel("I see a problem", ENGLISH)
