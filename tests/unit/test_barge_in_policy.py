import pytest

from app.agent_config import AgentConfig
from app.engine.barge_in import BargeInVerdict, judge

pytestmark = pytest.mark.unit


def verdict(config: AgentConfig | None = None, **situation: object) -> BargeInVerdict:
    facts = {"source": "voice", "speech_ms": 300, "agent_audible": True, "heard_anything": False}
    facts.update(situation)
    return judge(config or AgentConfig(), **facts)  # type: ignore[arg-type]


def test_speech_past_the_minimum_over_audible_agent_audio_interrupts() -> None:
    assert verdict() is BargeInVerdict.INTERRUPT
    assert verdict(agent_audible=False, heard_anything=True) is BargeInVerdict.INTERRUPT


def test_speech_shorter_than_the_minimum_is_not_an_interruption() -> None:
    assert verdict(speech_ms=199) is BargeInVerdict.NONE
    assert verdict(speech_ms=200) is BargeInVerdict.INTERRUPT


def test_an_answer_nobody_heard_yet_is_taken_back_but_a_scripted_line_is_not() -> None:
    assert verdict(agent_audible=False) is BargeInVerdict.TAKE_BACK
    assert verdict(agent_audible=False, source="reprompt") is BargeInVerdict.NONE


def test_agents_can_forbid_barge_in_or_protect_their_greeting() -> None:
    closed = AgentConfig()
    closed.velox.allow_barge_in = False
    assert verdict(closed) is BargeInVerdict.NONE
    protected = AgentConfig()
    protected.conversation_config.agent.disable_first_message_interruptions = True
    assert verdict(protected, source="greeting") is BargeInVerdict.NONE
    assert verdict(protected, source="voice") is BargeInVerdict.INTERRUPT
