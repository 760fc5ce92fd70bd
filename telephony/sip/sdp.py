"""SDP offer/answer (RFC 3264) for one audio stream: G.711 at 20 ms and telephone-event.

The caller's offer is read for its first audio stream; the answer picks the first codec of the
offer that we speak (PCMU or PCMA) and keeps the caller's payload type for telephone-event
(RFC 4733), since a trunk sends and expects digits under the number it chose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.audio.formats import MULAW_8K, AudioFormat
from telephony.sip.message import is_decimal

# Static payload types (RFC 3551) and what they carry.
PCMU, PCMA = 0, 8
_STATIC = {PCMU: "PCMU", PCMA: "PCMA"}
_DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})
CODECS: dict[str, AudioFormat] = {"PCMU": MULAW_8K, "PCMA": AudioFormat("alaw", 8000)}


class SdpError(ValueError):
    """An offer we cannot answer; `reason` is short and stable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Offer:
    """What the caller's SDP says about its audio: where to send it, in which formats."""

    address: str
    port: int
    payload_types: list[int]
    rtpmap: dict[int, str] = field(default_factory=dict)  # payload type -> "PCMU/8000"
    ptime_ms: int = 20
    direction: str = "sendrecv"  # sendonly, recvonly, inactive as the far end says

    @property
    def on_hold(self) -> bool:
        """The far end holds the call: it will not listen (RFC 3264 section 8.4; the older
        `c=0.0.0.0` of RFC 2543 too)."""
        return self.direction in ("sendonly", "inactive") or self.address in ("0.0.0.0", "::")

    @property
    def answer_direction(self) -> str:
        """Ours, mirroring theirs (RFC 3264 section 6.1)."""
        mirrored = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}
        return mirrored.get(self.direction, "sendrecv")


@dataclass(frozen=True)
class Answer:
    """The codec chosen for the call and the caller's telephone-event payload type (if any)."""

    codec: str
    payload_type: int
    telephone_event: int | None

    @property
    def audio_format(self) -> AudioFormat:
        return CODECS[self.codec]


def parse_offer(body: bytes) -> Offer:
    """The first audio stream of an SDP offer; `SdpError` when there is none we can use."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SdpError("sdp_not_utf8", "the SDP body is not UTF-8") from error
    session_address, address, port = "", "", -1
    payload_types: list[int] = []
    rtpmap: dict[int, str] = {}
    ptime, in_audio, seen_audio = 20, False, False
    session_direction, direction = "sendrecv", ""
    for raw in text.splitlines():
        line = raw.strip()
        kind, _, value = line.partition("=")
        if kind == "m":
            in_audio = value.startswith("audio ") and not seen_audio
            if in_audio:
                seen_audio = True
                port, payload_types = _media_line(value)
        elif kind == "c" and (in_audio or not seen_audio):
            parts = value.split()
            if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
                raise SdpError("sdp_bad_connection", f"unreadable connection line {line!r}")
            if in_audio:
                address = parts[2].split("/", 1)[0]
            else:
                session_address = parts[2].split("/", 1)[0]
        elif kind == "a" and in_audio:
            name, _, attribute = value.partition(":")
            if name == "rtpmap":
                number, _, encoding = attribute.partition(" ")
                if is_decimal(number):
                    rtpmap[int(number)] = encoding.strip()
            elif name == "ptime" and is_decimal(attribute.strip()):
                ptime = int(attribute.strip())
            elif name in _DIRECTIONS:
                direction = name
        elif kind == "a" and not seen_audio and value in _DIRECTIONS:
            session_direction = value
    if not seen_audio:
        raise SdpError("sdp_no_audio", "the offer has no audio stream")
    address = address or session_address
    if not address:
        raise SdpError("sdp_no_address", "the offer has no connection address")
    return Offer(address, port, payload_types, rtpmap, ptime, direction or session_direction)


def _media_line(value: str) -> tuple[int, list[int]]:
    parts = value.split()
    if len(parts) < 4 or not is_decimal(parts[1].split("/")[0]):
        raise SdpError("sdp_bad_media", f"unreadable media line 'm={value}'")
    if parts[2] not in ("RTP/AVP", "RTP/AVPF"):
        raise SdpError("sdp_unsupported_transport", f"media transport {parts[2]} is not RTP/AVP")
    port = int(parts[1].split("/")[0])
    if port > 65535:
        raise SdpError("sdp_bad_media", f"port {port} is out of range")
    return port, [int(p) for p in parts[3:] if is_decimal(p) and int(p) < 128]


def choose(offer: Offer, enabled: tuple[str, ...] = ("PCMU", "PCMA")) -> Answer:
    """The first offered codec we speak; `SdpError` (a 488) when there is none in common."""
    telephone_event = None
    for payload_type, encoding in offer.rtpmap.items():
        if encoding.lower().startswith("telephone-event/8000"):
            telephone_event = payload_type
    for payload_type in offer.payload_types:
        encoding = offer.rtpmap.get(payload_type, _STATIC.get(payload_type, ""))
        name = encoding.split("/", 1)[0].upper()
        rate = encoding.split("/")[1] if "/" in encoding else "8000"
        if name in enabled and rate == "8000":
            return Answer(name, payload_type, telephone_event)
    offered = ", ".join(offer.rtpmap.get(p, str(p)) for p in offer.payload_types) or "nothing"
    raise SdpError(
        "no_common_codec", f"no common codec: offered {offered}; we speak {', '.join(enabled)}"
    )


def render_answer(
    answer: Answer,
    address: str,
    port: int,
    session_id: int,
    *,
    version: int | None = None,
    direction: str = "sendrecv",
) -> bytes:
    """Our SDP answer: one audio stream at `address:port`, the chosen codec at 20 ms. A later
    answer in the same call (re-INVITE, UPDATE) keeps `session_id` with the next `version`."""
    family = "IP6" if ":" in address else "IP4"
    formats = [str(answer.payload_type)]
    lines = [
        "v=0",
        f"o=velox {session_id} {session_id if version is None else version} IN {family} {address}",
        "s=Velox",
        f"c=IN {family} {address}",
        "t=0 0",
    ]
    attributes = [f"a=rtpmap:{answer.payload_type} {answer.codec}/8000"]
    if answer.telephone_event is not None:
        formats.append(str(answer.telephone_event))
        attributes += [
            f"a=rtpmap:{answer.telephone_event} telephone-event/8000",
            f"a=fmtp:{answer.telephone_event} 0-16",
        ]
    lines.append(f"m=audio {port} RTP/AVP {' '.join(formats)}")
    lines += attributes
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


TELEPHONE_EVENT = 101  # the payload type we offer for RFC 4733 digits


def render_offer(codecs: tuple[str, ...], address: str, port: int, session_id: int) -> bytes:
    """Our SDP offer for a call we place: the codecs given (PCMU, PCMA) and telephone-event."""
    family = "IP6" if ":" in address else "IP4"
    numbers = {"PCMU": PCMU, "PCMA": PCMA}
    offered = [numbers[codec] for codec in codecs if codec in numbers] or [PCMU, PCMA]
    lines = [
        "v=0",
        f"o=velox {session_id} {session_id} IN {family} {address}",
        "s=Velox",
        f"c=IN {family} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(p) for p in [*offered, TELEPHONE_EVENT])}",
    ]
    lines += [f"a=rtpmap:{p} {_STATIC[p]}/8000" for p in offered]
    lines += [
        f"a=rtpmap:{TELEPHONE_EVENT} telephone-event/8000",
        f"a=fmtp:{TELEPHONE_EVENT} 0-16",
        "a=ptime:20",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")
