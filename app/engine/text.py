"""Text from outside (a caller's typed message, a keypad digit, a client's context) made safe.

JSON lets a client send a lone UTF-16 surrogate (`"hello \\ud800"`); Python keeps it in a `str`
that no database driver, JSON encoder or UTF-8 writer accepts, so a call holding one could not
be saved, or once saved could not be read back. Each lone surrogate becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def clean_text(text: str) -> str:
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def clean_value(value: Any) -> Any:
    """`value` with every string in it (keys too, in dicts and lists) cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(clean_value(v) for v in value)
    return value
