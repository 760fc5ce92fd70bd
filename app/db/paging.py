"""Opaque cursors for newest-first paging over a table's integer surrogate key."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class InvalidCursorError(ValueError):
    """The cursor was not one this service issued; the client should restart from page one."""


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode("ascii")).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The surrogate key the next page starts below."""
    try:
        return int(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii"))
    except (binascii.Error, ValueError, UnicodeError) as error:
        raise InvalidCursorError(f"invalid cursor {cursor!r}") from error


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def clamp_page_size(page_size: int) -> int:
    return max(1, min(page_size, MAX_PAGE_SIZE))
