"""Whether caller speech during an agent response interrupts it: the barge-in policy."""

from __future__ import annotations

from enum import Enum

from app.agent_config import AgentConfig


class BargeInVerdict(Enum):
    NONE = "none"  # not (yet) an interruption: too short, not allowed, or nothing to cut
    INTERRUPT = "interrupt"  # the caller is cutting in on audio they hear: stop and clear
    TAKE_BACK = "take_back"  # the caller had not finished: withdraw the unheard answer


# Answers to the caller's own words can be taken back; scripted lines cannot.
ANSWERING_SOURCES = frozenset({"voice", "text"})


def judge(
    config: AgentConfig,
    *,
    source: str,
    speech_ms: int,
    agent_audible: bool,
    heard_anything: bool,
) -> BargeInVerdict:
    """The verdict on `speech_ms` of caller speech while a response from `source` is running."""
    velox = config.velox
    if not velox.allow_barge_in or speech_ms < velox.barge_in_min_speech_ms:
        return BargeInVerdict.NONE
    agent = config.conversation_config.agent
    if source == "greeting" and agent.disable_first_message_interruptions:
        return BargeInVerdict.NONE
    if agent_audible or heard_anything:
        return BargeInVerdict.INTERRUPT
    if source in ANSWERING_SOURCES:
        return BargeInVerdict.TAKE_BACK
    return BargeInVerdict.NONE
