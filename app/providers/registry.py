"""Where provider names chosen in an agent's settings become provider objects.

A provider module registers a factory under its name; the object is built on first use and
shared by every call in the process (models load once).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.config.agent import ProviderChoice
from app.providers.base import LanguageModel, SpeechToText, TextToSpeech, VoiceActivityDetector

P = TypeVar("P")


class UnknownProviderError(LookupError):
    def __init__(self, role: str, name: str, known: list[str]) -> None:
        super().__init__(
            f"no {role} provider named {name!r}; available: {', '.join(known) or 'none'}"
        )
        self.role = role
        self.name = name


class MissingKeyError(LookupError):
    """A cloud provider chosen by an agent whose organization has stored no key for it."""

    def __init__(self, role: str, name: str) -> None:
        super().__init__(
            f"the {role} provider {name!r} needs the organization's key: "
            f"PUT /v1/provider-keys/{name}"
        )
        self.role = role
        self.name = name


# Cloud provider clients per organization key; each holds connection pools, so keep them.
MAX_CLOUD_CLIENTS = 256


class _Role(Generic[P]):
    def __init__(self, role: str) -> None:
        self.role = role
        self._factories: dict[str, Callable[[], P]] = {}
        self._cloud_factories: dict[str, Callable[[str], P]] = {}
        self._instances: dict[str, P] = {}
        self._cloud_instances: dict[tuple[str, str], P] = {}
        self._load_seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def register(self, name: str, factory: Callable[[], P]) -> None:
        with self._lock:
            self._factories[name] = factory
            self._instances.pop(name, None)

    def register_cloud(self, name: str, factory: Callable[[str], P]) -> None:
        """A provider that needs the calling organization's API key (`factory(api_key)`)."""
        with self._lock:
            self._cloud_factories[name] = factory
            self._cloud_instances = {
                key: value for key, value in self._cloud_instances.items() if key[0] != name
            }

    def names(self) -> list[str]:
        return sorted({*self._factories, *self._cloud_factories})

    def is_cloud(self, name: str) -> bool:
        return name in self._cloud_factories

    def get_for(self, name: str, keys: Mapping[str, str]) -> P:
        """The provider `name`, built with the organization's key when it is a cloud one.

        A provider registered both ways (an OpenAI-compatible endpoint) uses the organization's
        key when it has one, else the service-wide one.
        """
        factory = self._cloud_factories.get(name)
        api_key = keys.get(name)
        if factory is None or (not api_key and name in self._factories):
            return self.get(name)
        if not api_key:
            raise MissingKeyError(self.role, name)
        fingerprint = hashlib.sha256(api_key.encode()).hexdigest()
        with self._lock:
            instance = self._cloud_instances.get((name, fingerprint))
            if instance is None:
                if len(self._cloud_instances) >= MAX_CLOUD_CLIENTS:
                    self._cloud_instances.pop(next(iter(self._cloud_instances)))
                instance = factory(api_key)
                self._cloud_instances[(name, fingerprint)] = instance
            return instance

    def get(self, name: str) -> P:
        with self._lock:
            if name in self._instances:
                return self._instances[name]
            factory = self._factories.get(name)
            if factory is None:
                raise UnknownProviderError(self.role, name, self.names())
            started = time.perf_counter()
            instance = factory()
            self._load_seconds[name] = time.perf_counter() - started
            self._instances[name] = instance
            return instance

    def loaded(self) -> dict[str, P]:
        with self._lock:
            return dict(self._instances)

    def load_seconds(self, name: str) -> float | None:
        """How long the provider took to load: its own figure if it loads in the background."""
        instance = self._instances.get(name)
        own = getattr(instance, "load_seconds", None)
        if isinstance(own, float):
            return own
        return self._load_seconds.get(name)


@dataclass(frozen=True, slots=True)
class ProviderSet:
    vad: VoiceActivityDetector
    stt: SpeechToText
    llm: LanguageModel
    tts: TextToSpeech
    # Providers of the agent's chains that could not be used for this call, and why.
    unavailable: tuple[str, ...] = ()

    def observe(self, observer: object) -> None:
        """Send the providers' failures and fallbacks to the call's log (fallback chains)."""
        for provider in (self.stt, self.llm, self.tts):
            chain = getattr(provider, "chain", None)
            if chain is not None:
                chain.observer = observer


class ProviderRegistry:
    def __init__(self) -> None:
        self.vad: _Role[VoiceActivityDetector] = _Role("VAD")
        self.stt: _Role[SpeechToText] = _Role("speech-to-text")
        self.llm: _Role[LanguageModel] = _Role("language model")
        self.tts: _Role[TextToSpeech] = _Role("text-to-speech")

    def resolve(self, choice: ProviderChoice) -> ProviderSet:
        """The providers an agent chose; raises `UnknownProviderError` naming the missing one."""
        return ProviderSet(
            vad=self.vad.get(choice.vad),
            stt=self.stt.get(choice.stt),
            llm=self.llm.get(choice.llm),
            tts=self.tts.get(choice.tts),
        )

    def preload(self, choice: ProviderChoice) -> list[str]:
        """Load the chosen providers now (at start-up); returns the errors, one line each."""
        errors = []
        for role, name in choice.model_dump().items():
            try:
                getattr(self, role).get(name)
            except Exception as error:
                errors.append(f"{role} {name!r}: {error}")
        return errors

    def available(self) -> dict[str, list[str]]:
        return {
            "vad": self.vad.names(),
            "stt": self.stt.names(),
            "llm": self.llm.names(),
            "tts": self.tts.names(),
        }
