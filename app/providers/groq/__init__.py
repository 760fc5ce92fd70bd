"""Groq chat completions through the official SDK (`llm.py`)."""

from __future__ import annotations

from app.providers.base import LanguageModel
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    def groq(api_key: str) -> LanguageModel:
        from app.providers.groq.llm import GroqLanguageModel

        return GroqLanguageModel(api_key, base_url=settings.groq_base_url)

    registry.llm.register_cloud("groq", groq)
