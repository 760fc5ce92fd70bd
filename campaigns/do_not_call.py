"""The organization's do-not-call list: entries normalised like leads, checked at dial time."""

from __future__ import annotations

import re
from collections.abc import Container

from campaigns.phone_numbers import normalize_phone_number


def normalize_do_not_call_entry(raw: str, default_region: str | None = None) -> str:
    """Return a do-not-call entry in E.164, with the same rules as lead numbers.

    Sharing the normaliser is what makes the check reliable: "(212) 555-0100" on the list
    blocks a lead uploaded as "+1 212 555 0100". Raises `InvalidPhoneNumberError`.
    """
    return normalize_phone_number(raw, default_region)


def may_dial(e164: str, do_not_call: Container[str]) -> bool:
    """Whether an E.164 number may be dialed given the organization's E.164 do-not-call set."""
    return e164 not in do_not_call


_LIST = (
    r"(?:your|the|this|all\s+(?:your|the))\s+(?:[\w-]+\s+){0,3}?(?:list|lists|database|system)\b"
)
_ME = r"(?:me|us|my\s+(?:number|name|details|phone\s+number))"
# Asking to be left alone. A "not" just before ("don't remove me from the list") reverses it.
_REQUESTS = re.compile(
    rf"""
    \b(?:
        remove\s+{_ME}\s+from\s+{_LIST}
      | remove\s+my\s+(?:phone\s+)?number\b
      | take\s+{_ME}\s+off\s+{_LIST}
      | (?:put|add|place)\s+(?:me|us|my\s+number)\s+(?:on|to)\s+(?:your|the)\s+do[\s-]*not[\s-]*call
      | (?:stop|quit|cease)\s+(?:calling|phoning|ringing|contacting|texting)
        \s+(?:me|us|this\s+number|here|my\s+(?:number|phone))\b
    )
    | ^\s*(?:please,?\s+)?(?:stop|quit)\s+calling(?:,?\s+please)?\s*[.!]*\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Refusals that carry their own negation ("don't call me again", "no more calls").
_REFUSALS = re.compile(
    r"""
    \b(?:do\s+not|don['’]?t|never)\s+(?:ever\s+)?(?:call|phone|ring|contact)
        \s+(?:me|us|this\s+number)\s+(?:again|anymore|any\s+more)\b
    | \b(?:do\s+not|don['’]?t)\s+(?:ever\s+)?(?:call|phone|ring|contact)
        \s+(?:me|us|this\s+number)\s*[.!]*\s*$
    | \b(?:do\s+not|don['’]?t|never)\s+want\s+(?:
          you\s+to\s+(?:call|phone|contact)\s+(?:me|us)\s+(?:again|anymore|any\s+more)
        | (?:any\s+more|anymore|more|any\s+further)\s+(?:phone\s+)?calls
      )
    | ^\s*(?:please,?\s+)?no\s+more\s+(?:phone\s+)?calls(?:,?\s+please)?\s*[.!]*\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)
_NEGATED = re.compile(
    r"\b(?:don['’]?t|do\s+not|didn['’]?t|won['’]?t|not|never)\s+(?:\w+\s+){0,2}$", re.IGNORECASE
)


def _asks_in(sentence: str) -> bool:
    if _REFUSALS.search(sentence):
        return True
    return any(
        not _NEGATED.search(sentence[: match.start()]) for match in _REQUESTS.finditer(sentence)
    )


def asks_not_to_be_called(utterance: str) -> bool:
    """Whether the person said they want no more calls ("remove me from your list", "stop
    calling me", "don't call me again", "I don't want any more calls"). A rule, not a model: it
    must not miss the plain phrasings whatever a model's summary says, and it names what is
    asked of ("your list", "me"), so "take me off hold" or "stop calling it a scam" are not
    refusals."""
    return any(_asks_in(part) for part in re.split(r"(?<=[.!?])\s+", utterance.strip()))
