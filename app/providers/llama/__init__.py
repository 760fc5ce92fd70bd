"""Offline language models on llama.cpp (`llm.py`): SmolLM2-135M-Instruct (`smollm2`, the
default, ignores tools) and Qwen2.5-Coder-0.5B-Instruct (`qwen`, chosen per agent, calls tools)."""

from __future__ import annotations

from pathlib import Path

from app.providers.base import LanguageModel
from app.providers.registry import ProviderRegistry
from app.settings import Settings


def _qwen(models_dir: Path) -> LanguageModel:
    from app.providers.llama.llm import LlamaLanguageModel
    from app.providers.llama.model_files import QWEN, qwen_path

    return LlamaLanguageModel(QWEN, qwen_path(models_dir), calls_tools=True)


def _smollm2() -> LanguageModel:
    from app.providers.llama.llm import LlamaLanguageModel
    from app.providers.llama.model_files import SMOLLM2, smollm2_path

    return LlamaLanguageModel(SMOLLM2, smollm2_path(), calls_tools=False)


def register(registry: ProviderRegistry, settings: Settings) -> None:
    models_dir = settings.models_dir
    registry.llm.register("qwen", lambda: _qwen(models_dir))
    registry.llm.register("smollm2", _smollm2)
