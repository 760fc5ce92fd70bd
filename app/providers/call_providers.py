"""The providers one call runs on: the agent's choices, their fallbacks, wrapped for resilience.

A chain is the agent's provider for a role followed by its fallbacks (by default the offline
provider of that role when the agent chose a cloud one). Members that cannot be built for this
organization (no key stored, not installed) are left out and noted; a role with no member left
refuses the call with the first reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from app.config.agent import AgentConfig, ProviderChoice
from app.providers.fallback.breakers import CircuitBreakers
from app.providers.fallback.chain import Chain, FallbackLanguageModel
from app.providers.fallback.stt import FallbackSpeechToText
from app.providers.fallback.voice import FallbackTextToSpeech
from app.providers.registry import ProviderRegistry, ProviderSet, _Role

P = TypeVar("P")

OFFLINE = ProviderChoice()


def chain_names(
    role: _Role[P], primary: str, explicit: list[str] | None, offline: str
) -> list[str]:
    """The agent's provider, then its fallbacks, each once."""
    if explicit is None:
        explicit = [offline] if role.is_cloud(primary) else []
    return list(dict.fromkeys([primary, *explicit]))


def _members(
    role: _Role[P], names: list[str], keys: Mapping[str, str], unavailable: list[str]
) -> list[P]:
    members: list[P] = []
    first_error: Exception | None = None
    for name in names:
        try:
            members.append(role.get_for(name, keys))
        except Exception as error:
            first_error = first_error or error
            unavailable.append(f"{role.role} {name!r}: {error}")
    if not members:
        assert first_error is not None
        raise first_error
    return members


def providers_for_call(
    registry: ProviderRegistry,
    config: AgentConfig,
    *,
    keys: Mapping[str, str],
    breakers: CircuitBreakers,
    scope: str,
) -> ProviderSet:
    """The call's providers; raises `UnknownProviderError`/`MissingKeyError` if a role has none."""
    choice, fallbacks = config.velox.providers, config.velox.fallbacks
    timeouts = config.velox.provider_timeouts
    unavailable: list[str] = []
    stt = _members(
        registry.stt,
        chain_names(registry.stt, choice.stt, fallbacks.stt, OFFLINE.stt),
        keys,
        unavailable,
    )
    llm = _members(
        registry.llm,
        chain_names(registry.llm, choice.llm, fallbacks.llm, OFFLINE.llm),
        keys,
        unavailable,
    )
    tts = _members(
        registry.tts,
        chain_names(registry.tts, choice.tts, fallbacks.tts, OFFLINE.tts),
        keys,
        unavailable,
    )
    return ProviderSet(
        vad=registry.vad.get(choice.vad),
        stt=FallbackSpeechToText(
            Chain("stt", stt, breakers, scope),
            connect_timeout_s=timeouts.stt_connect_ms / 1000,
            final_timeout_s=timeouts.stt_final_ms / 1000,
        ),
        llm=FallbackLanguageModel(
            Chain("llm", llm, breakers, scope), timeouts.llm_first_token_ms / 1000
        ),
        tts=FallbackTextToSpeech(
            Chain("tts", tts, breakers, scope),
            timeouts.tts_first_byte_ms / 1000,
            config.velox.fallback_voices,
        ),
        unavailable=tuple(unavailable),
    )
