"""TwiML documents Velox answers with, built by the `twilio` library."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twilio.twiml.voice_response import Connect, VoiceResponse

MEDIA_STREAM_PATH = "/twilio/media"


def media_stream_url(public_url: str) -> str:
    """The Media Streams WebSocket URL for a public base URL (`https` → `wss`, `http` → `ws`)."""
    parts = urlsplit(public_url.rstrip("/"))
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path + MEDIA_STREAM_PATH, "", ""))


def connect_stream(stream_url: str, parameters: dict[str, str]) -> str:
    """`<Connect><Stream>`: a bidirectional Media Stream carrying `parameters` to `start`."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def apology(message: str) -> str:
    """Say why the call cannot be taken, then hang up (never a bare HTTP error)."""
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)


def dial(phone_number: str, caller_id: str | None = None) -> str:
    """Hand the call to a person: what a transfer redirects the live call to."""
    response = VoiceResponse()
    if caller_id:
        response.dial(phone_number, caller_id=caller_id)
    else:
        response.dial(phone_number)
    return str(response)
