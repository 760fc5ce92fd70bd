import pytest

from app.config.agent import ProviderChoice
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from app.providers.warm_up import warm_up
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

pytestmark = pytest.mark.unit


async def test_warm_up_runs_one_inference_per_role_and_skips_a_broken_one() -> None:
    stt = ScriptedSpeechToText(["hello"])
    llm = ScriptedLanguageModel(lambda m: "Hi there.")
    tts = ToneTextToSpeech(fail_on="Hello")
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    registry.stt.register("scripted", lambda: stt)
    registry.llm.register("scripted", lambda: llm)
    registry.tts.register("tone", lambda: tts)
    choice = ProviderChoice(vad="energy", stt="scripted", llm="scripted", tts="tone")

    took = await warm_up(registry, choice)

    assert set(took) == {"vad", "stt", "llm"}  # the TTS raised, and was skipped
    assert stt.closed_streams == 1
    assert len(llm.requests) == 1
