"""SIP messages (RFC 3261 section 7): bytes to typed requests and responses, and back.

Sans-I/O: no sockets. A message that cannot be read raises `MalformedSipMessageError` with a short
machine-readable `reason` and the headers read so far, so the caller can still answer a request
with a precise 400 when it names enough of itself (Via, From, To, Call-ID, CSeq) to be answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"
MAX_MESSAGE_BYTES = 65_535

# RFC 3261 section 7.3.3: the compact forms of header names.
_COMPACT = {
    "v": "Via",
    "f": "From",
    "t": "To",
    "i": "Call-ID",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
}
_CANONICAL = {
    name.lower(): name
    for name in (
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Length",
        "Content-Type",
        "Max-Forwards",
        "Record-Route",
        "Route",
        "Allow",
        "Accept",
        "Supported",
        "User-Agent",
        "Server",
        "Subject",
        "Content-Encoding",
        "Retry-After",
        "Warning",
        "Authorization",
        "WWW-Authenticate",
        "Proxy-Authorization",
        "Proxy-Authenticate",
        "Require",
        "Unsupported",
        "Event",
        "Refer-To",
        "Referred-By",
        "Subscription-State",
    )
}
# Headers whose values may be comma-separated lists that mean several headers (section 7.3.1).
_LIST_HEADERS = frozenset({"Via", "Route", "Record-Route"})
# What a request must carry to be answered at all (section 8.1.1).
ANSWERABLE = ("Via", "From", "To", "Call-ID", "CSeq")
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
# No control character but tab may stand in a header value (RFC 3261 section 25.1: a bare CR
# would end the header line for the next reader, letting a value smuggle in a header).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class MalformedSipMessageError(ValueError):
    """A datagram that is not a well-formed SIP message. `reason` is short and stable (for
    counting); the message says what is wrong. `request_line`/`headers` hold what was read."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        method: str = "",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.method = method
        self.headers = headers or []

    @property
    def answerable(self) -> bool:
        """A request that names itself well enough to be sent a 400."""
        names = {name for name, _ in self.headers}
        vias = [value for name, value in self.headers if name == "Via"]
        return (
            bool(self.method)
            and self.method != "ACK"
            and all(h in names for h in ANSWERABLE)
            and all(readable_via(via) for via in vias)  # the 400 goes back along them
            and all(readable_cseq(cseq.split()) for name, cseq in self.headers if name == "CSeq")
        )


@dataclass
class SipMessage:
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header (any spelling, compact forms included), or None."""
        wanted = canonical_name(name)
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        wanted = canonical_name(name)
        return [value for key, value in self.headers if key == wanted]

    @property
    def call_id(self) -> str:
        return self.header("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        number, method = (self.header("CSeq") or "0 ").split(None, 1)
        return int(number), method.strip()

    @property
    def from_tag(self) -> str:
        return header_params(self.header("From") or "").get("tag", "")

    @property
    def to_tag(self) -> str:
        return header_params(self.header("To") or "").get("tag", "")

    @property
    def branch(self) -> str:
        return header_params(self.header("Via") or "").get("branch", "")


@dataclass
class SipRequest(SipMessage):
    method: str = ""
    uri: str = ""


@dataclass
class SipResponse(SipMessage):
    status: int = 0
    reason: str = ""


def is_decimal(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes "²", which `int` then refuses (a ValueError
    that escaped the parser; found while fixing a fuzz finding)."""
    return text.isascii() and text.isdigit()


def readable_via(value: str) -> bool:
    """A Via value that names its protocol (`SIP/2.0/UDP host;branch=...`)."""
    return value.upper().startswith(SIP_VERSION + "/")


def readable_cseq(parts: list[str]) -> bool:
    """A CSeq header's words that are a sequence number under 2**31 and a method."""
    return len(parts) == 2 and is_decimal(parts[0]) and int(parts[0]) < 2**31


def canonical_name(name: str) -> str:
    lowered = name.strip().lower()
    if lowered in _COMPACT:
        return _COMPACT[lowered]
    return _CANONICAL.get(lowered, name.strip())


def header_params(value: str) -> dict[str, str]:
    """The `;name=value` parameters of a header value (those after a `<uri>` if it has one)."""
    rest = value[value.rfind(">") + 1 :] if ">" in value else value[value.find(";") :]
    params: dict[str, str] = {}
    for part in rest.split(";")[1:]:
        name, _, param = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = param.strip().strip('"')
    return params


def uri_of(value: str) -> str:
    """The URI inside a name-addr (`"Bob" <sip:bob@host>;tag=1`) or an addr-spec."""
    if "<" in value and ">" in value:
        return value[value.index("<") + 1 : value.index(">")]
    return value.split(";", 1)[0].strip()


def uri_user(uri: str) -> str:
    """The user part of a sip:/sips:/tel: URI (`+15550001111`), or '' when there is none."""
    scheme, _, rest = uri.partition(":")
    if scheme.lower() == "tel":
        return rest.split(";", 1)[0]
    if "@" not in rest:
        return ""
    return rest.split("@", 1)[0].split(";", 1)[0].split(":", 1)[0]


def _split_list(value: str) -> list[str]:
    """Split a comma-separated header list, leaving commas inside quotes and <...> alone."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(depth - 1, 0)
        elif char == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part]


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Read one SIP message from a datagram; `MalformedSipMessageError` says why it cannot be."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise MalformedSipMessageError("too_large", f"message of {len(data)} bytes is too large")
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
    if not separator:
        raise MalformedSipMessageError("no_header_end", "no blank line ends the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedSipMessageError("not_utf8", "the headers are not UTF-8") from error
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():  # keep-alive CRLFs before a message (section 7.5)
        lines.pop(0)
    if not lines:
        raise MalformedSipMessageError("empty", "no start line")
    start, method = lines[0].strip(), ""
    parts = start.split(" ", 2)
    if parts[0] == SIP_VERSION:
        message: SipRequest | SipResponse = _response_line(parts)
    elif len(parts) == 3 and parts[2] == SIP_VERSION and _TOKEN.match(parts[0]):
        method = parts[0].upper()
        message = SipRequest(method=method, uri=parts[1])
    else:
        raise MalformedSipMessageError("bad_start_line", f"unreadable start line {start[:80]!r}")
    message.headers = _headers(lines[1:], method)
    _check(message, method)
    message.body = _body(message, body, method)
    return message


def _response_line(parts: list[str]) -> SipResponse:
    if len(parts) < 2 or not is_decimal(parts[1]) or len(parts[1]) != 3:
        raise MalformedSipMessageError(
            "bad_status_line", f"unreadable status line {' '.join(parts)!r}"
        )
    return SipResponse(status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "")


def _headers(lines: list[str], method: str) -> list[tuple[str, str]]:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        elif line.strip():
            unfolded.append(line)
    headers: list[tuple[str, str]] = []
    for line in unfolded:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name.strip()) or _CONTROL.search(value):
            raise MalformedSipMessageError(
                "bad_header",
                f"unreadable header line {line[:60]!r}",
                method=method,
                headers=headers,
            )
        key = canonical_name(name)
        values = _split_list(value) if key in _LIST_HEADERS else [value.strip()]
        headers.extend((key, item) for item in values)
    return headers


def _check(message: SipRequest | SipResponse, method: str) -> None:
    headers = message.headers
    names = {name for name, _ in headers}
    for required in ANSWERABLE:
        if required not in names:
            raise MalformedSipMessageError(
                f"missing_{required.lower().replace('-', '_')}",
                f"Missing {required} header",
                method=method,
                headers=headers,
            )
    # Before anything that is answered with a 400: a reply goes back along the Via, so one we
    # cannot read must not be echoed into it (found by fuzzing).
    if not all(readable_via(via) for via in message.header_values("Via")):
        raise MalformedSipMessageError("bad_via", "Malformed Via header", method=method)
    cseq = (message.header("CSeq") or "").split()
    if not readable_cseq(cseq):
        without_cseq = [(name, value) for name, value in headers if name != "CSeq"]
        raise MalformedSipMessageError(
            "bad_cseq", "Malformed CSeq header", method=method, headers=without_cseq
        )
    if isinstance(message, SipRequest) and cseq[1].upper() != method:
        raise MalformedSipMessageError(
            "cseq_method_mismatch",
            "CSeq method does not match the request",
            method=method,
            headers=headers,
        )


def _body(message: SipRequest | SipResponse, body: bytes, method: str) -> bytes:
    length = message.header("Content-Length")
    if length is None:
        return body  # allowed over UDP: the datagram's end is the body's end (section 18.3)
    if not is_decimal(length.strip()):
        raise MalformedSipMessageError(
            "bad_content_length", "Malformed Content-Length", method=method, headers=message.headers
        )
    expected = int(length)
    if expected > len(body):
        raise MalformedSipMessageError(
            "truncated_body",
            f"Content-Length {expected} exceeds the {len(body)} body bytes received",
            method=method,
            headers=message.headers,
        )
    return body[:expected]


def render(message: SipRequest | SipResponse) -> bytes:
    """The message on the wire, with a Content-Length that matches its body."""
    if isinstance(message, SipRequest):
        start = f"{message.method} {message.uri} {SIP_VERSION}"
    else:
        start = f"{SIP_VERSION} {message.status} {message.reason}"
    lines = [start]
    lines += [f"{name}: {value}" for name, value in message.headers if name != "Content-Length"]
    lines.append(f"Content-Length: {len(message.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + message.body


def sent_by(request: SipRequest) -> str:
    """The top Via's sent-by (host and port), which names a transaction with its branch."""
    via = request.header("Via") or ""
    return via.split(None, 1)[1].split(";", 1)[0].strip() if " " in via else via


def sipfrag_status(body: bytes) -> tuple[int, str]:
    """The status line of a message/sipfrag body (`SIP/2.0 200 OK`); (0, '') if unreadable."""
    first = body.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    parts = first.split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0" or not is_decimal(parts[1]):
        return 0, ""
    return int(parts[1]), parts[2] if len(parts) > 2 else ""
