"""SIP messages out of a byte stream (RFC 3261 section 18.3), sans-I/O.

Over TCP a message ends where its Content-Length says: the header section ends at the first
blank line, and exactly Content-Length bytes of body follow. Bytes arrive split and coalesced
at will; `StreamFramer.feed` takes whatever arrived and returns the whole messages it now holds,
keeping the rest for later. CRLFs between messages are keep-alives (RFC 5626 section 3.5.1)
and skipped. A stream that cannot be framed (no or unreadable Content-Length, a message over
the size cap) has lost its message boundaries: `broken` says why (a `FramingError`), the
messages before the break are still returned, nothing after it is, and its connection is to
be closed.
"""

from __future__ import annotations

import re

from telephony.sip.message import MAX_MESSAGE_BYTES

_CONTENT_LENGTH = re.compile(
    rb"^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE
)


class FramingError(ValueError):
    """The stream's message boundaries are lost; `reason` is short and stable (for counting)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class StreamFramer:
    """Cuts one connection's bytes into SIP messages of at most `max_message_bytes`."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_message_bytes
        self.broken: FramingError | None = None

    @property
    def pending(self) -> int:
        """Bytes held of a message not yet whole."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """The messages completed by `data`, in order (up to a break: see `broken`)."""
        if self.broken is not None:
            return []
        self._buffer += data
        messages: list[bytes] = []
        while True:
            try:
                message = self._next()
            except FramingError as error:
                self.broken = error
                self._buffer.clear()
                return messages
            if message is None:
                return messages
            messages.append(message)

    def _next(self) -> bytes | None:
        start = 0
        while start < len(self._buffer) and self._buffer[start] in b"\r\n":
            start += 1  # keep-alive CRLFs between messages
        if start:
            del self._buffer[:start]
        if not self._buffer:
            return None
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > self._max:
                raise FramingError("too_large", f"no header end in {len(self._buffer)} bytes")
            return None
        head = bytes(self._buffer[: end + 4])
        found = _CONTENT_LENGTH.search(head)
        if found is None:
            raise FramingError(
                "missing_content_length", "a message over TCP must carry Content-Length"
            )
        value = found.group(1).strip()
        if not value.isdigit() or len(value) > 9:
            raise FramingError("bad_content_length", f"unreadable Content-Length {value[:20]!r}")
        total = len(head) + int(value)
        if total > self._max:
            raise FramingError("too_large", f"a message of {total} bytes is over the size cap")
        if len(self._buffer) < total:
            return None
        message = bytes(self._buffer[:total])
        del self._buffer[:total]
        return message
