"""SIP requests as a trunk sends them, for the sans-I/O core's tests."""

from __future__ import annotations

SDP_OFFER = (
    "v=0\r\n"
    "o=trunk 1 1 IN IP4 192.0.2.10\r\n"
    "s=call\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 8 0 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:20\r\n"
)
TRUNK = ("192.0.2.10", 5060)


def request(
    method: str,
    *,
    branch: str = "z9hG4bK-1",
    call_id: str = "call-1@192.0.2.10",
    cseq: int = 1,
    to_tag: str = "",
    uri: str = "sip:+15550001111@198.51.100.1:5060",
    body: str = "",
    extra: str = "",
) -> bytes:
    to = "<sip:+15550001111@198.51.100.1>" + (f";tag={to_tag}" if to_tag else "")
    content_type = "Content-Type: application/sdp\r\n" if body else ""
    return (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        'From: "Caller" <sip:+15552223333@192.0.2.10>;tag=caller-tag\r\n'
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        "Contact: <sip:+15552223333@192.0.2.10:5060>\r\n"
        f"{extra}{content_type}"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


def invite(branch: str = "z9hG4bK-1", extra: str = "", body: str = SDP_OFFER) -> bytes:
    return request("INVITE", branch=branch, extra=extra, body=body)
