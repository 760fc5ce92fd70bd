"""What caller speech over the agent means: yield at once, then decide (the barge-in policy).

The agent stops the moment the caller's voice starts (yield). While it listens it decides:
interrupting words ("wait", "sorry"), speech that goes on, a question, or words that are not
backchannels once the burst is longer than a murmur are a real interruption; a burst that ends as a
backchannel, a cough, or a murmur too short to be a sentence lets the reply resume where it
stopped. A caller who goes on talking right after the agent began answering had not finished:
that answer is taken back, whatever the length of the words that carry it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.config.agent import AgentConfig
from app.engine.backchannels import Vocabulary, is_backchannel, says_any

# Answers to the caller's own words can be taken back; scripted lines cannot.
ANSWERING_SOURCES = frozenset({"voice", "text"})


class Decision(Enum):
    WAIT = "wait"  # still listening: the burst goes on and says nothing yet
    INTERRUPT = "interrupt"  # a real interruption: drop the reply, the caller has the turn
    TAKE_BACK = "take_back"  # the caller had not finished: withdraw the reply, answer it all
    RESUME = "resume"  # a backchannel, a cough, a noise: go on with the reply


def may_yield(config: AgentConfig, *, source: str, speech_ms: int) -> bool:
    """Whether `speech_ms` of caller speech over a response from `source` makes the agent stop."""
    velox = config.velox
    if not velox.allow_barge_in or speech_ms < velox.barge_in_min_speech_ms:
        return False
    agent = config.conversation_config.agent
    return not (source == "greeting" and agent.disable_first_message_interruptions)


def unheard_answer_verdict(source: str) -> Decision:
    """Caller speech before any of the response was heard: take an answer back, else wait."""
    return Decision.TAKE_BACK if source in ANSWERING_SOURCES else Decision.WAIT


@dataclass(frozen=True, slots=True)
class Burst:
    """The caller's speech since the agent yielded, as far as it is known."""

    speech_ms: int  # longest run of speech so far
    in_speech: bool  # still talking
    words: str  # what the recognizer has made of it so far (may lag behind)


def continues_turn(config: AgentConfig, *, source: str, caller_pause_ms: float | None) -> bool:
    """Whether speech over a response from `source` carries on the caller's own last words.

    `caller_pause_ms` is how long the caller had been silent, after the words the response
    answers, when the speech began (None if the response does not answer their words).
    """
    return (
        source in ANSWERING_SOURCES
        and caller_pause_ms is not None
        and caller_pause_ms <= config.velox.premature_recovery_ms
    )


def interrupts(
    config: AgentConfig, speech_ms: int, text: str, vocabulary: Vocabulary, *, continuing: bool
) -> bool:
    """Whether a burst of `speech_ms` over the agent, heard as `text` so far, takes the turn."""
    velox = config.velox
    if speech_ms >= velox.interruption_min_speech_ms or says_any(text, vocabulary.interruptions):
        return True
    if is_backchannel(text, vocabulary.backchannels):
        return False
    # Other words: a question, or a caller carrying on with their sentence, takes the turn
    # whatever its length; over an answer they had waited for, a burst too short to be a
    # sentence is taken for a murmur the recognizer made words of ("mm-hmm" heard as "and
    # remember.").
    return continuing or text.rstrip().endswith("?") or speech_ms >= velox.short_burst_ms


def decide(
    config: AgentConfig,
    burst: Burst,
    *,
    source: str,
    caller_pause_ms: float | None,
    vocabulary: Vocabulary,
) -> Decision:
    """The decision on a burst of caller speech while the agent holds its reply."""
    continuing = continues_turn(config, source=source, caller_pause_ms=caller_pause_ms)
    if interrupts(config, burst.speech_ms, burst.words, vocabulary, continuing=continuing):
        return Decision.TAKE_BACK if continuing else Decision.INTERRUPT
    return Decision.WAIT if burst.in_speech else Decision.RESUME
