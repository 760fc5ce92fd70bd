"""TwiML documents Velox answers with, built by the `twilio` library."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

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


def warm_dial(phone_number: str, whisper_url: str, caller_audio_url: str | None = None) -> str:
    """A warm transfer: the caller hears `caller_audio_url` (if any) while `phone_number` is
    dialled; whoever answers first runs the TwiML at `whisper_url` (Twilio's whisper), then
    the two are joined."""
    response = VoiceResponse()
    if caller_audio_url:
        response.play(caller_audio_url)
    dial = Dial()
    dial.number(phone_number, url=whisper_url, method="POST")
    response.append(dial)
    return str(response)


def play(audio_url: str) -> str:
    """Play one audio file (a warm transfer's summary, on the answering person's leg)."""
    response = VoiceResponse()
    response.play(audio_url)
    return str(response)
