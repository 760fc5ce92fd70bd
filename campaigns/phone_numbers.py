"""E.164 normalisation of phone numbers, shared by leads, caller IDs and the do-not-call list.

One normaliser everywhere means a number typed as "(212) 555-0100" in a lead file and as
"+1 212 555 0100" on the do-not-call list compare equal.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat


class InvalidPhoneNumberError(ValueError):
    """A phone number that cannot be dialed; `reason` says why and how to write it instead."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{raw!r}: {reason}")
        self.raw = raw
        self.reason = reason


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: (
        "no country code: write it as +<country code><number>, or set a default region"
    ),
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}


def normalize_phone_number(raw: str, default_region: str | None = None) -> str:
    """Return `raw` in E.164 (`+14155550100`), or raise `InvalidPhoneNumberError`.

    `default_region` (ISO 3166 alpha-2, e.g. "US") is used for national-format numbers; without
    it only numbers written with a leading `+` are accepted. Impossible and unassigned numbers
    are rejected so that a campaign never dials them.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumberError(raw, "missing phone number")
    region = default_region.upper() if default_region else None
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException as error:
        reason = _PARSE_REASONS.get(error.error_type, "not a phone number")
        raise InvalidPhoneNumberError(raw, reason) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumberError(raw, "impossible number: wrong length for its country")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumberError(raw, "not a valid number in its country's numbering plan")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
