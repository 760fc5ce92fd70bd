"""Deepgram's live streaming API, sans-I/O: the URL, the server's messages parsed into typed
events, control messages, refusals and closes explained, and end-of-speech tracking."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.datastructures import Headers

from app.providers.base import Transcript

SAMPLE_RATE = 16_000
EXCERPT_CHARS = 300

ControlMessage = Literal["KeepAlive", "Finalize", "CloseStream"]

_ADVICE_BY_STATUS = {
    400: "Deepgram rejected the stream's options; check the model and the agent's language",
    401: "Deepgram rejected the API key; check the organization's Deepgram API key",
    402: "the Deepgram project is out of credit; top it up or choose another provider",
    403: "the Deepgram API key may not use this model or feature; check the key's permissions",
    429: "too many concurrent Deepgram streams or requests; retry shortly or raise the limits",
}
_ADVICE_BY_CLOSE_REASON = {
    "NET-0001": "Deepgram heard no audio or KeepAlive for ~10 s; check the audio path",
    "NET-0000": "Deepgram sent nothing within its timeout; retry the call's stream",
    "DATA-0000": "Deepgram could not decode the audio; it must be linear16 16 kHz mono",
}


# --- the wire format, without sockets ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Results:
    """A `Results` message: the top alternative of one channel, interim or final."""

    transcript: str
    confidence: float | None
    is_final: bool
    speech_final: bool
    from_finalize: bool


@dataclass(frozen=True, slots=True)
class UtteranceEnd:
    last_word_end: float | None


@dataclass(frozen=True, slots=True)
class ServerError:
    """An `Error` message (e.g. a control message Deepgram could not parse); not fatal."""

    description: str


@dataclass(frozen=True, slots=True)
class OtherMessage:
    """`SpeechStarted`, `Metadata` and types newer API versions add: nothing to transcribe."""

    type: str


ServerMessage = Results | UtteranceEnd | ServerError | OtherMessage


class MalformedMessageError(ValueError):
    """A server message that is not the documented JSON shape."""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_server_message(data: str | bytes) -> ServerMessage:
    """One server text frame as a typed message; `MalformedMessageError` if it is not one."""
    if isinstance(data, bytes):
        raise MalformedMessageError(f"unexpected binary frame of {len(data)} bytes")
    try:
        message = json.loads(data)
    except json.JSONDecodeError as error:
        raise MalformedMessageError(f"not JSON: {error}") from error
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MalformedMessageError("not an object with a type")
    kind = message["type"]
    if kind == "Results":
        try:
            alternative = message["channel"]["alternatives"][0]
            transcript = alternative["transcript"]
        except (KeyError, IndexError, TypeError) as error:
            raise MalformedMessageError("Results without alternatives[0].transcript") from error
        if not isinstance(transcript, str):
            raise MalformedMessageError("Results whose transcript is not text")
        return Results(
            transcript=transcript,
            confidence=_number(alternative.get("confidence")),
            is_final=message.get("is_final") is True,
            speech_final=message.get("speech_final") is True,
            from_finalize=message.get("from_finalize") is True,
        )
    if kind == "UtteranceEnd":
        return UtteranceEnd(_number(message.get("last_word_end")))
    if kind == "Error":
        return ServerError(str(message.get("description") or message.get("message") or message))
    return OtherMessage(kind)


def control_message(kind: ControlMessage) -> str:
    """The JSON text frame of a client control message."""
    return json.dumps({"type": kind})


def listen_url(
    base_url: str, *, model: str, language: str, endpointing_ms: int, utterance_end_ms: int
) -> str:
    """The `/v1/listen` WebSocket URL for 16 kHz mono PCM16 with interims and end-of-speech."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    query = urlencode(
        {
            "model": model,
            "language": language.replace("_", "-"),
            "encoding": "linear16",
            "sample_rate": SAMPLE_RATE,
            "channels": 1,
            "interim_results": "true",
            "endpointing": endpointing_ms,
            "utterance_end_ms": utterance_end_ms,
            "vad_events": "true",
            "punctuate": "true",  # the turn rules end a turn sooner after a question mark
            "smart_format": "true",
        }
    )
    return urlunsplit((scheme, parts.netloc, parts.path + "/v1/listen", query, ""))


def plain_headers(headers: Headers) -> dict[str, str]:
    """Lower-cased names to values (the last of repeated ones: a proxy may repeat a header)."""
    return {name.lower(): value for name, value in headers.raw_items()}


def handshake_refusal(status: int, headers: Mapping[str, str], body: bytes) -> str:
    """What Deepgram said when it refused the WebSocket upgrade, and what to do about it.

    `headers` has lower-cased names."""
    detail = headers.get("dg-error", "")
    text = body.decode("utf-8", errors="replace")
    try:
        error = json.loads(text)
    except json.JSONDecodeError:
        error = None
    if isinstance(error, dict) and ("err_msg" in error or "err_code" in error):
        detail = f"{error.get('err_code', '')}: {error.get('err_msg', '')}".strip(": ")
    detail = " ".join((detail or text).split())[:EXCERPT_CHARS]
    advice = _ADVICE_BY_STATUS.get(
        status,
        "Deepgram failed; retry or switch the agent to another speech-to-text provider"
        if status >= 500
        else "check the Deepgram base URL and the stream's options",
    )
    request_id = headers.get("dg-request-id")
    where = f" (request {request_id})" if request_id else ""
    return f"HTTP {status} opening the live stream{where}: {detail or 'no detail'} ({advice})"


def close_description(code: int | None, reason: str) -> str:
    """A dropped live socket in words: the close code, Deepgram's reason and advice."""
    advice = _ADVICE_BY_CLOSE_REASON.get(reason.split(" ")[0] if reason else "", "")
    if not advice:
        advice = "the stream was lost; the call needs a new one"
    return f"the live stream closed mid-call (code {code}, reason {reason or 'none'!r}): {advice}"


class EndOfSpeech:
    """Turns server messages into transcripts and decides which carry `end_of_speech`.

    Interims with words are passed on; finals are passed on when they have words, answer a
    `Finalize` or end speech (empty finals Deepgram sends during silence are dropped). An
    `UtteranceEnd` becomes an empty final with `end_of_speech=True`, but only when words were
    heard since the last end of speech: Deepgram sends it after `speech_final` too, and the
    docs advise ignoring it then. An empty final adds no words and removes none.
    """

    def __init__(self) -> None:
        self._utterance_open = False

    def transcript(self, message: ServerMessage) -> Transcript | None:
        if isinstance(message, UtteranceEnd):
            if not self._utterance_open:
                return None
            self._utterance_open = False
            return Transcript("", is_final=True, end_of_speech=True)
        if not isinstance(message, Results):
            return None
        text = message.transcript
        if not message.is_final:
            if not text.strip():
                return None
            self._utterance_open = True
            return Transcript(text, is_final=False, confidence=message.confidence)
        if text.strip():
            self._utterance_open = not message.speech_final
        elif message.speech_final:
            self._utterance_open = False
        elif not message.from_finalize:
            return None
        return Transcript(
            text,
            is_final=True,
            confidence=message.confidence,
            end_of_speech=message.speech_final,
        )


# --- the socket -------------------------------------------------------------------------------
