"""Building responses to a request (RFC 3261 section 8.2.6) and our in-dialog requests."""

from __future__ import annotations

import secrets

from telephony.sip.message import SipRequest, SipResponse, header_params

REASONS = {
    100: "Trying",
    180: "Ringing",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    415: "Unsupported Media Type",
    420: "Bad Extension",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    603: "Decline",
}
ALLOWED_METHODS = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, UPDATE"
USER_AGENT = "Velox"
BRANCH_MAGIC = "z9hG4bK"  # RFC 3261 section 8.1.1.7: branches that start so are unique


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return BRANCH_MAGIC + secrets.token_hex(8)


def _reached_via(via: str, source: tuple[str, int]) -> str:
    """The top Via as answered: `received` and `rport` filled in (RFC 3261 18.2.1, RFC 3581)."""
    params = header_params(via)
    sent_by = via.split(None, 1)[1].split(";", 1)[0] if " " in via else ""
    host = sent_by.rsplit(":", 1)[0] if sent_by.count(":") == 1 else sent_by
    if "rport" in params and not params["rport"]:
        via = via.replace(";rport", f";rport={source[1]}", 1)
        if "received" not in params:
            via += f";received={source[0]}"
    elif host != source[0] and "received" not in params:
        via += f";received={source[0]}"
    return via


def build_response(
    request: SipRequest | list[tuple[str, str]],
    status: int,
    source: tuple[str, int],
    *,
    to_tag: str = "",
    reason: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> SipResponse:
    """The response to a request (or to the headers of one that could not be read in full):
    its Via list, From, Call-ID and CSeq copied; To with our tag (once past 100)."""
    request_headers = request.headers if isinstance(request, SipRequest) else request
    copied: list[tuple[str, str]] = []
    first_via = True
    for name, value in request_headers:
        if name == "Via":
            copied.append((name, _reached_via(value, source) if first_via else value))
            first_via = False
        elif name == "To":
            if to_tag and status > 100 and "tag" not in header_params(value):
                value = f"{value};tag={to_tag}"
            copied.append((name, value))
        elif name in ("From", "Call-ID", "CSeq") or (name == "Record-Route" and status < 300):
            copied.append((name, value))
    copied.append(("Server", USER_AGENT))
    copied += headers or []
    phrase = reason or REASONS.get(status, "Unknown")
    return SipResponse(headers=copied, body=body, status=status, reason=_clean_phrase(phrase))


def _clean_phrase(text: str) -> str:
    """A reason phrase is one line of printable text."""
    return "".join(c if c.isprintable() else " " for c in text)[:120]
