"""SmolLM2 on llama.cpp, the offline language model (`llm.py`)."""

from __future__ import annotations

from app.providers.base import LanguageModel
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def _smollm2() -> LanguageModel:
    from app.providers.llama.llm import LlamaLanguageModel

    return LlamaLanguageModel()


def register(registry: ProviderRegistry, settings: Settings) -> None:
    registry.llm.register("smollm2", _smollm2)
