"""A lean Twilio Media Streams caller, cheap enough to run hundreds of calls from one process.

It speaks the same protocol as `tests.twilio_caller.TwilioCaller` (dial via `POST /twilio/voice`,
`connected`/`start`, real-time 20 ms mu-law `media`, marks echoed once "played", `clear` drops
buffered audio and returns pending marks), but it pre-encodes its audio, skips JSON parsing of
agent media, offers no WebSocket compression (Twilio does not compress) and records timings
instead of audio. Times are `time.monotonic()` seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import xml.etree.ElementTree as ET
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.stats import Summary, summarize
from telephony.audio import MULAW_SILENCE, StreamingResampler, pcm16_to_mulaw

FRAME_S = 0.02
FRAME_BYTES = 160  # 20 ms of mu-law 8 kHz
MULAW_RATE = 8000
SILENCE_PAYLOAD = base64.b64encode(bytes([MULAW_SILENCE]) * FRAME_BYTES).decode("ascii")
_MEDIA_PREFIX = '{"event":"media"'
_PAYLOAD_KEY = '"payload":"'


@dataclass(frozen=True, slots=True)
class Utterance:
    """Caller speech as base64 mu-law 20 ms frames, ready to send."""

    payloads: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return len(self.payloads) * FRAME_S

    @classmethod
    def from_pcm16(cls, pcm16_16k: bytes) -> Utterance:
        """PCM16 16 kHz → 8 kHz mu-law frames, the way Twilio carries a caller's voice."""
        resampler = StreamingResampler(16_000, MULAW_RATE)
        mulaw = pcm16_to_mulaw(resampler.resample_chunk(pcm16_16k) + resampler.flush())
        if len(mulaw) % FRAME_BYTES:
            mulaw += bytes([MULAW_SILENCE]) * (FRAME_BYTES - len(mulaw) % FRAME_BYTES)
        return cls(
            tuple(
                base64.b64encode(mulaw[i : i + FRAME_BYTES]).decode("ascii")
                for i in range(0, len(mulaw), FRAME_BYTES)
            )
        )


@dataclass(slots=True)
class BargeIn:
    started_at: float  # the caller's first speech frame of the barge-in left
    clear_at: float | None = None
    last_media_at: float | None = None  # last agent frame received of the interrupted reply


@dataclass(slots=True)
class LineRecord:
    """What one call measured; latencies in milliseconds."""

    greeting_ms: float | None = None
    response_ms: list[float] = field(default_factory=list)
    responses_missing: int = 0
    lateness_ms: array[float] = field(default_factory=lambda: array("d"))
    barge_ins: list[BargeIn] = field(default_factory=list)
    frames_after_clear: int = 0
    frames_received: int = 0
    conversation_id: str = ""
    connected_at: float | None = None
    closed_at: float | None = None
    error: str | None = None

    @property
    def call_seconds(self) -> float:
        if self.connected_at is None or self.closed_at is None:
            return 0.0
        return self.closed_at - self.connected_at


class PhoneLine:
    """One call's Twilio side. Use `async with`; `speak`, `wait_*`, then leave to hang up."""

    def __init__(
        self,
        base_url: str,
        agent_id: str,
        http: httpx.AsyncClient,
        *,
        number: int,
        playout_lead_s: float,
        sender_lateness_ms: array[float] | None = None,
    ) -> None:
        self._base_url = base_url
        self._agent_id = agent_id
        self._http = http
        self._lead_s = playout_lead_s
        self._call_sid = f"CA{number:032d}"
        self._stream_sid = f"MZ{number:032d}"
        self._sender_lateness = sender_lateness_ms
        self.record = LineRecord()
        self._ws: ClientConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sequence = 0
        self._chunk = 0
        self._speech: deque[str] = deque()
        self._speech_sent = asyncio.Event()
        self._speech_is_barge_in = False
        # When each utterance's first and last frames left (send times), in order.
        self.utterances_sent: list[tuple[float, float]] = []
        self._utterance_started: float | None = None
        # Rewrites each outgoing payload at its send time (a line that echoes the agent).
        self._outgoing: Callable[[str, float], str] | None = None
        self._pending_marks: deque[tuple[str, float]] = deque()
        self._echo_now: list[str] = []
        self._play_end = 0.0
        self._last_media_at = 0.0
        # The response in progress: its first frame, audio received since, and whether cleared.
        self._response_first: float | None = None
        self._response_audio_s = 0.0
        self._response_opened_at = 0.0
        self._response_is_greeting = False
        self._response_started = asyncio.Event()
        self._cleared = False
        self._barge_in: BargeIn | None = None

    # --- connection ------------------------------------------------------------------------

    async def __aenter__(self) -> PhoneLine:
        stream_url, parameters = await self._dial()
        self.record.conversation_id = parameters.get("conversation_id", "")
        self._ws = await connect(stream_url, compression=None, max_size=None, open_timeout=30)
        self.record.connected_at = time.monotonic()
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        start = {
            "accountSid": "AC" + "0" * 32,
            "streamSid": self._stream_sid,
            "callSid": self._call_sid,
            "tracks": ["inbound"],
            "customParameters": parameters,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }
        self._open_response(time.monotonic(), greeting=True)
        await self._send({"event": "start", "start": start})
        self._tasks = [
            asyncio.create_task(self._receive_loop()),
            asyncio.create_task(self._send_loop()),
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
        with contextlib.suppress(ConnectionClosed, OSError):
            await self._send({"event": "stop", "stop": {"callSid": self._call_sid}})
            await self._connection.close()
        self.record.closed_at = time.monotonic()

    async def _dial(self) -> tuple[str, dict[str, str]]:
        form = {
            "CallSid": self._call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": "+15552223333",
            "To": "+15550001111",
            "Direction": "inbound",
            "CallStatus": "ringing",
        }
        response = await self._http.post(
            f"{self._base_url}/twilio/voice", params={"agent_id": self._agent_id}, data=form
        )
        response.raise_for_status()
        stream = ET.fromstring(response.text).find("./Connect/Stream")
        if stream is None:
            raise RuntimeError(f"the voice webhook did not connect a stream: {response.text}")
        parameters = {p.attrib["name"]: p.attrib["value"] for p in stream.findall("Parameter")}
        return stream.attrib["url"], parameters

    @property
    def _connection(self) -> ClientConnection:
        assert self._ws is not None
        return self._ws

    async def _send(self, message: dict[str, object]) -> None:
        self._sequence += 1
        message["sequenceNumber"] = str(self._sequence)
        message["streamSid"] = self._stream_sid
        await self._connection.send(json.dumps(message))

    # --- the caller ------------------------------------------------------------------------

    async def speak(self, utterance: Utterance, *, barge_in: bool = False) -> None:
        """Say `utterance` (in real time, from the next frame); returns once its last frame left.

        The agent's answer is measured from that last frame to the first agent frame after it.
        """
        self._speech.extend(utterance.payloads)
        self._speech_is_barge_in = barge_in
        self._speech_sent.clear()
        await self._speech_sent.wait()

    async def wait_response(self, timeout_s: float) -> bool:
        """Until the agent's first frame after the caller's last words; False on timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._response_started.wait()
        except TimeoutError:
            self.record.responses_missing += 1
            return False
        return True

    async def wait_played(self, timeout_s: float, quiet_s: float = 0.3) -> None:
        """Until the agent's audio has played out and nothing new arrived for `quiet_s`."""
        deadline = time.monotonic() + timeout_s
        while (now := time.monotonic()) < deadline:
            done_at = max(self._play_end, self._last_media_at + quiet_s)
            if now >= done_at:
                return
            await asyncio.sleep(min(done_at - now, deadline - now) + 0.001)

    # --- sending: one frame every 20 ms, speech if any is queued, else silence ------------

    async def _send_loop(self) -> None:
        started = time.monotonic()
        stream_sid, lateness = self._stream_sid, self._sender_lateness
        n = 0
        while True:
            due = started + n * FRAME_S
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            if lateness is not None:
                lateness.append((now - due) * 1000)
            speaking = bool(self._speech)
            if speaking:
                payload = self._speech.popleft()
                if self._utterance_started is None:
                    self._utterance_started = now
                if self._speech_is_barge_in and self._barge_in is None:
                    self._barge_in = BargeIn(started_at=now)
            else:
                payload = SILENCE_PAYLOAD
            if self._outgoing is not None:
                payload = self._outgoing(payload, now)
            self._sequence += 1
            self._chunk += 1
            await self._connection.send(
                f'{{"event":"media","sequenceNumber":"{self._sequence}","media":'
                f'{{"track":"inbound","chunk":"{self._chunk}","timestamp":"{n * 20}",'
                f'"payload":"{payload}"}},"streamSid":"{stream_sid}"}}'
            )
            if speaking and not self._speech:
                self._on_speech_sent(now)
            await self._echo_marks(now)
            n += 1

    def _on_speech_sent(self, at: float) -> None:
        if self._utterance_started is not None:
            self.utterances_sent.append((self._utterance_started, at))
            self._utterance_started = None
        barge_in, self._barge_in = self._barge_in, None
        if barge_in is not None:
            barge_in.last_media_at = self._last_media_at if self._last_media_at else None
            self.record.barge_ins.append(barge_in)
        self._open_response(at)
        self._speech_sent.set()

    def _open_response(self, at: float, *, greeting: bool = False) -> None:
        self._response_is_greeting = greeting
        self._response_opened_at = at
        self._response_first = None
        self._response_audio_s = 0.0
        self._response_started.clear()
        self._cleared = False

    async def _echo_marks(self, now: float) -> None:
        names, self._echo_now = self._echo_now, []
        while self._pending_marks and self._pending_marks[0][1] <= now:
            names.append(self._pending_marks.popleft()[0])
        for name in names:
            await self._send({"event": "mark", "mark": {"name": name}})

    # --- receiving -------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        try:
            async for message in self._connection:
                if isinstance(message, str) and message.startswith(_MEDIA_PREFIX):
                    self._on_media(time.monotonic(), message)
                else:
                    self._on_control(time.monotonic(), message)
        except ConnectionClosed:
            pass

    def _on_media(self, now: float, message: str) -> None:
        start = message.find(_PAYLOAD_KEY) + len(_PAYLOAD_KEY)
        b64 = message[start : message.index('"', start)]
        seconds = (len(b64) * 3 // 4 - b64[-2:].count("=")) / MULAW_RATE
        record = self.record
        record.frames_received += 1
        self._last_media_at = now
        self._play_end = max(self._play_end, now) + seconds
        if self._cleared:
            record.frames_after_clear += 1
            return
        if self._response_first is None:
            self._response_first = now
            waited_ms = (now - self._response_opened_at) * 1000
            if self._response_is_greeting:
                record.greeting_ms = waited_ms
            else:
                record.response_ms.append(waited_ms)
            self._response_started.set()
        else:
            ideal = self._response_first + max(0.0, self._response_audio_s - self._lead_s)
            record.lateness_ms.append((now - ideal) * 1000)
        self._response_audio_s += seconds

    def _on_control(self, now: float, message: str | bytes) -> None:
        parsed = json.loads(message)
        event = parsed.get("event")
        if event == "mark":
            self._pending_marks.append((parsed["mark"]["name"], max(self._play_end, now)))
        elif event == "clear":
            self._cleared = True
            self._play_end = now
            self._echo_now.extend(name for name, _ in self._pending_marks)
            self._pending_marks.clear()
            if self._barge_in is not None and self._barge_in.clear_at is None:
                self._barge_in.clear_at = now


class MeasuredCalls:
    """Response and greeting figures over a set of calls (mixed into the sections' results)."""

    records: list[LineRecord]

    @property
    def response(self) -> Summary:
        return summarize([x for r in self.records for x in r.response_ms])

    @property
    def greeting(self) -> Summary:
        return summarize([r.greeting_ms for r in self.records if r.greeting_ms is not None])
