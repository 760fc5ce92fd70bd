"""What a caller's words over the agent mean: backchannels ("mm-hmm", "okay"), said while the
other talks without taking the turn, and interrupting words ("wait", "sorry", "stop"), which take
it however short. Both vocabularies are per language, and an agent may replace either."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.config.agent import AgentConfig

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

DEFAULT_INTERRUPTIONS: dict[str, tuple[str, ...]] = {
    "en": (
        "stop", "wait", "no", "nope", "sorry", "what", "pardon", "excuse me", "hold on",
        "hang on", "hello", "hey", "actually", "but", "listen", "one second", "one sec",
        "just a second", "one moment",
    ),
    "es": (
        "para", "espera", "espere", "no", "perdón", "perdona", "disculpa", "disculpe", "oiga",
        "qué", "cómo", "un momento", "pero",
    ),
    "de": (
        "stopp", "halt", "warte", "warten sie", "nein", "moment", "entschuldigung", "was",
        "wie bitte", "hallo", "aber",
    ),
    "fr": (
        "arrêtez", "attendez", "attends", "non", "pardon", "excusez-moi", "quoi", "comment",
        "allô", "un instant", "mais",
    ),
    "it": (
        "basta", "aspetta", "aspetti", "no", "scusi", "scusa", "cosa", "come", "pronto",
        "un momento", "ma",
    ),
    "pt": (
        "pare", "espera", "espere", "não", "desculpe", "o quê", "como", "alô", "um momento",
        "mas",
    ),
}  # fmt: skip

Phrases = frozenset[tuple[str, ...]]

_WORDS = re.compile(r"[\w'’]+(?:-[\w'’]+)*")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """An agent's backchannels and interrupting words, each phrase as its words."""

    backchannels: Phrases
    interruptions: Phrases


def vocabulary(config: AgentConfig) -> Vocabulary:
    """The agent's own lists where it has them, else its language's (English when unknown)."""
    velox = config.velox
    language = config.conversation_config.agent.language.split("-")[0].lower()

    def phrases(own: list[str] | None, defaults: dict[str, tuple[str, ...]]) -> Phrases:
        chosen = own if own is not None else defaults.get(language, defaults["en"])
        return frozenset(tuple(words(phrase)) for phrase in chosen if words(phrase))

    return Vocabulary(
        backchannels=phrases(velox.backchannel_phrases, DEFAULT_BACKCHANNELS),
        interruptions=phrases(velox.interruption_phrases, DEFAULT_INTERRUPTIONS),
    )


def words(text: str) -> list[str]:
    return [word.replace("’", "'") for word in _WORDS.findall(text.lower())]


def is_backchannel(text: str, phrases: Phrases) -> bool:
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


def says_any(text: str, phrases: Phrases) -> bool:
    """Whether `text` contains one of `phrases` as whole words ("oh wait" says "wait")."""
    said = words(text)
    return any(
        tuple(said[start : start + len(phrase)]) == phrase
        for phrase in phrases
        for start in range(len(said) - len(phrase) + 1)
    )
