"""The organization's do-not-call list: entries normalised like leads, checked at dial time."""

from __future__ import annotations

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
