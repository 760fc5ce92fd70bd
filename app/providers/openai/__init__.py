"""Any OpenAI-compatible chat-completions endpoint (`llm.py`): a local server with the
service's settings, or a cloud one with an organization's key."""

from __future__ import annotations

from app.providers.base import LanguageModel
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def register(registry: ProviderRegistry, settings: Settings) -> None:
    def openai_compatible(api_key: str | None = None) -> LanguageModel:
        from app.providers.openai.llm import OpenAiCompatibleLanguageModel

        return OpenAiCompatibleLanguageModel(
            base_url=settings.openai_base_url,
            api_key=api_key or settings.openai_api_key,
            model=settings.openai_model,
        )

    registry.llm.register("openai", openai_compatible)
    registry.llm.register_cloud("openai", openai_compatible)
