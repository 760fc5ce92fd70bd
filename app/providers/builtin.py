"""The providers that ship with Velox: one folder each under `app/providers/`, one line here.

Each folder's `register` names its factories; heavy model and SDK libraries are imported inside
them, so a provider that is never chosen never loads, and a machine missing one still starts.
"""

from __future__ import annotations

from app.providers import (
    cartesia,
    deepgram,
    elevenlabs,
    energy,
    groq,
    llama,
    openai,
    piper,
    silero,
    whisper,
)
from app.providers.registry import ProviderRegistry
from app.settings import Settings

BUILTIN = (
    energy,
    silero,
    whisper,
    llama,
    piper,
    deepgram,
    groq,
    openai,
    elevenlabs,
    cartesia,
)


def register_builtin_providers(registry: ProviderRegistry, settings: Settings) -> None:
    for provider in BUILTIN:
        provider.register(registry, settings)
