"""Personal data taken out of what is stored: phone numbers, e-mail addresses, card numbers.

Applied, when an agent asks for it (`platform_settings.privacy.redact_pii`), to a finished
call's transcript and to its analysis before they are written; never to what the agent hears
or says during the call. Phone numbers are found with `phonenumbers` (so "call me at 415 555
0134" is one, and a year or an order number is not); card numbers are runs of 13 to 19 digits
(spaces or dashes between groups) that pass the Luhn check.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

PHONE = "[phone number]"
EMAIL = "[email]"
CARD = "[card number]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()

    return _CARD.sub(replace, text)


def _phones(text: str, region: str) -> str:
    found = list(phonenumbers.PhoneNumberMatcher(text, region))
    for match in reversed(found):  # from the end, so earlier offsets stay right
        text = text[: match.start] + PHONE + text[match.end :]
    return text


def redact_pii(text: str, region: str = "US") -> str:
    """`text` with e-mail addresses, card numbers and phone numbers replaced by `[email]`,
    `[card number]` and `[phone number]`."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _cards(text)  # before phone numbers: a card's digits could read as one
    return _phones(text, region)


def redact_pii_value(value: Any, region: str = "US") -> Any:
    """Every string inside a JSON-like value redacted (keys are left alone)."""
    if isinstance(value, str):
        return redact_pii(value, region)
    if isinstance(value, list):
        return [redact_pii_value(item, region) for item in value]
    if isinstance(value, dict):
        return {key: redact_pii_value(item, region) for key, item in value.items()}
    return value
