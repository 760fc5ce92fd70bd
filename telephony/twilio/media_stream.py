"""Twilio Media Streams (bidirectional) wire protocol, sans-I/O: JSON text in, typed events out.

The transport owns the socket; this module only parses what Twilio sends (`connected`, `start`,
`media`, `dtmf`, `mark`, `stop`) and renders what we send back (`media`, `mark`, `clear`).
"""

from __future__ import annotations

import base64
import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from telephony.json_frames import MalformedMessage, decode_base64, json_object, require, require_int


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True, slots=True)
class MediaFormat:
    encoding: str
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    media_format: MediaFormat
    custom_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Media:
    payload: bytes
    track: str
    chunk: int
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str
    track: str = "inbound_track"


@dataclass(frozen=True, slots=True)
class Mark:
    """Twilio reports a mark we sent once the audio queued before it has played (or was cleared)."""

    name: str


@dataclass(frozen=True, slots=True)
class Stop:
    account_sid: str | None
    call_sid: str | None


Event = Connected | Start | Media | Dtmf | Mark | Stop


class MediaStreamParser:
    """Parses one Media Stream's inbound frames, checking each against the stream it started.

    Every rejected frame is counted in `malformed` by reason before `MalformedMessage` is raised.
    """

    def __init__(self) -> None:
        self.stream_sid: str | None = None
        self.malformed: Counter[str] = Counter()

    def parse(self, message: str | bytes) -> Event:
        """Turn one WebSocket frame into an event, or raise (and count) `MalformedMessage`."""
        try:
            return self._parse(message)
        except MalformedMessage as error:
            self.malformed[error.reason] += 1
            raise

    def _parse(self, message: str | bytes) -> Event:
        obj = json_object(message, "Media Streams")
        event = obj.get("event")
        if event is None:
            raise MalformedMessage("missing_event", "no 'event' field")
        if event == "connected":
            return Connected(
                protocol=require(obj, "protocol", str, "connected"),
                version=require(obj, "version", str, "connected"),
            )
        if event == "start":
            return self._start(obj)
        if event not in ("media", "dtmf", "mark", "stop"):
            raise MalformedMessage("unknown_event", f"event {event!r:.40}")
        self._check_stream(obj, event)
        if event == "media":
            media = require(obj, "media", dict, "media")
            return Media(
                payload=decode_base64(require(media, "payload", str, "media")),
                track=require(media, "track", str, "media"),
                chunk=require_int(media, "chunk", "media"),
                timestamp_ms=require_int(media, "timestamp", "media"),
            )
        if event == "dtmf":
            dtmf = require(obj, "dtmf", dict, "dtmf")
            track = dtmf.get("track", "inbound_track")
            return Dtmf(
                digit=require(dtmf, "digit", str, "dtmf"),
                track=track if isinstance(track, str) else "inbound_track",
            )
        if event == "mark":
            return Mark(name=require(require(obj, "mark", dict, "mark"), "name", str, "mark"))
        stop = obj.get("stop")
        stop = stop if isinstance(stop, dict) else {}
        account_sid, call_sid = stop.get("accountSid"), stop.get("callSid")
        return Stop(
            account_sid=account_sid if isinstance(account_sid, str) else None,
            call_sid=call_sid if isinstance(call_sid, str) else None,
        )

    def _start(self, obj: dict[str, Any]) -> Start:
        if self.stream_sid is not None:
            raise MalformedMessage("duplicate_start", f"stream {self.stream_sid} already started")
        start = require(obj, "start", dict, "start")
        stream_sid = start.get("streamSid", obj.get("streamSid"))
        if not isinstance(stream_sid, str) or not stream_sid:
            raise MalformedMessage("missing_field", "start has no 'streamSid'")
        top_level_sid = obj.get("streamSid")
        if top_level_sid is not None and top_level_sid != stream_sid:
            raise MalformedMessage("stream_sid_mismatch", "start and its envelope name two streams")
        tracks = require(start, "tracks", list, "start")
        if not all(isinstance(track, str) for track in tracks):
            raise MalformedMessage("bad_field", "start.tracks should be a list of strings")
        parameters = start.get("customParameters", {})
        if not isinstance(parameters, dict) or not all(
            isinstance(value, str) for value in parameters.values()
        ):
            raise MalformedMessage("bad_field", "start.customParameters should map names to text")
        media_format = require(start, "mediaFormat", dict, "start")
        parsed = Start(
            stream_sid=stream_sid,
            call_sid=require(start, "callSid", str, "start"),
            account_sid=require(start, "accountSid", str, "start"),
            tracks=tuple(tracks),
            media_format=MediaFormat(
                encoding=require(media_format, "encoding", str, "start.mediaFormat"),
                sample_rate=require_int(media_format, "sampleRate", "start.mediaFormat"),
                channels=require_int(media_format, "channels", "start.mediaFormat"),
            ),
            custom_parameters=dict(parameters),
        )
        self.stream_sid = stream_sid
        return parsed

    def _check_stream(self, obj: dict[str, Any], event: str) -> None:
        if self.stream_sid is None:
            raise MalformedMessage("before_start", f"{event} arrived before start")
        stream_sid = obj.get("streamSid")
        if stream_sid is None:
            raise MalformedMessage("missing_field", f"{event} has no 'streamSid'")
        if stream_sid != self.stream_sid:
            raise MalformedMessage(
                "stream_sid_mismatch", f"{event} for {stream_sid!r:.40}, started {self.stream_sid}"
            )


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _compact(message: dict[str, Any]) -> str:
    return _COMPACT.encode(message)


@functools.lru_cache(maxsize=4096)
def _media_prefix(stream_sid: str) -> str:
    return '{"event":"media","streamSid":' + _COMPACT.encode(stream_sid) + ',"media":{"payload":"'


def render_media(stream_sid: str, mulaw: bytes) -> str:
    """A `media` message carrying mu-law 8 kHz audio for Twilio to play. Sent for every 60 ms
    of every call's agent audio: the JSON around the payload is made once per stream (base64
    needs no escaping), the same text `json.dumps` makes."""
    return _media_prefix(stream_sid) + base64.b64encode(mulaw).decode("ascii") + '"}}'


def render_mark(stream_sid: str, name: str) -> str:
    """A `mark` message: Twilio sends it back once the audio sent before it has played."""
    return _compact({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def render_clear(stream_sid: str) -> str:
    """A `clear` message: Twilio drops buffered audio and returns all pending marks."""
    return _compact({"event": "clear", "streamSid": stream_sid})
