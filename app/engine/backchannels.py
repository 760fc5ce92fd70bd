"""Backchannels: what a listener says while the other talks ("mm-hmm", "okay") without taking
the turn. Said over the agent, they are not interruptions; the vocabulary is per language, and an
agent may replace it with its own."""

from __future__ import annotations

import re

from app.agent_config import AgentConfig

DEFAULT_BACKCHANNELS: dict[str, tuple[str, ...]] = {
    "en": (
        # Recognizers write "mm-hmm" many ways ("Mm-mm.", "Mhm", "Hmm hmm").
        "mm", "mmm", "mm-hmm", "mm-mm", "mhm", "hmm", "hm", "uh-huh", "uh huh", "ah", "oh", "okay",
        "ok", "right", "yeah", "yes", "yep", "yup", "sure", "alright", "all right", "i see",
        "got it", "cool", "great", "good", "fine", "exactly", "true", "perfect",
    ),
    "es": (
        "sí", "si", "vale", "claro", "ajá", "mhm", "mm", "ok", "okay", "bueno", "ya", "perfecto",
    ),
    "de": (
        "ja", "genau", "okay", "ok", "mhm", "mm", "aha", "gut", "alles klar", "stimmt", "richtig",
    ),
    "fr": ("oui", "ouais", "d'accord", "ok", "okay", "mhm", "mm", "ah bon", "bien sûr", "voilà"),
    "it": ("sì", "si", "certo", "va bene", "ok", "okay", "mhm", "mm", "esatto", "giusto"),
    "pt": ("sim", "claro", "tá", "ok", "okay", "mhm", "mm", "certo", "pois", "entendi"),
}  # fmt: skip

_WORDS = re.compile(r"[\w'’]+(?:-[\w'’]+)*")


def vocabulary(config: AgentConfig) -> frozenset[tuple[str, ...]]:
    """The agent's backchannels as word sequences: its own list, else its language's."""
    phrases = config.velox.backchannel_phrases
    if phrases is None:
        language = config.conversation_config.agent.language.split("-")[0].lower()
        phrases = list(DEFAULT_BACKCHANNELS.get(language, DEFAULT_BACKCHANNELS["en"]))
    return frozenset(tuple(words(phrase)) for phrase in phrases if words(phrase))


def words(text: str) -> list[str]:
    return [word.replace("’", "'") for word in _WORDS.findall(text.lower())]


def is_backchannel(text: str, phrases: frozenset[tuple[str, ...]]) -> bool:
    """Whether `text` is nothing but backchannels (no words at all counts: a cough, a noise)."""
    remaining = words(text)
    longest = max((len(phrase) for phrase in phrases), default=1)
    while remaining:
        for size in range(min(longest, len(remaining)), 0, -1):
            if tuple(remaining[:size]) in phrases:
                del remaining[:size]
                break
        else:
            return False
    return True
