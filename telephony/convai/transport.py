"""The conversation WebSocket as the engine's line: agent audio and events out, in order.

Everything the server says goes through one outbox drained by one writer, so audio, text and
interruptions reach the client in the order the engine produced them, and an interruption can
drop agent audio that was produced but not yet written.

A browser or app plays audio as it arrives and reports nothing back, so what the caller heard
is inferred from the client's pacing: a sentence's mark counts as heard once the audio sent
before it has had time to play (plus half the measured round trip). Audio cut by an
interruption was, by the same measure, not heard.

A conversation outlives its socket when the connection drops: the transport is detached (agent
audio is dropped, marks are never heard, other events wait in the outbox, at most
`DETACHED_BACKLOG` of them) and attached to the client's next socket when it resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app.audio.formats import AudioFormat
from app.engine.transport import ConversationEvents, TransferNotSupportedError
from telephony.audio import OutboundEncoder
from telephony.convai.server_events import (
    render_agent_response,
    render_agent_response_correction,
    render_audio,
    render_client_tool_call,
    render_error,
    render_interruption,
    render_ping,
    render_user_transcript,
    render_vad_score,
)

log = logging.getLogger(__name__)


# Events (not audio) kept for a client while its socket is down; the oldest go first.
DETACHED_BACKLOG = 200


@dataclass(slots=True)
class _Outgoing:
    text: str
    is_audio: bool = False


class ConvaiTransport(ConversationEvents):
    """The engine's `CallTransport` and `ConversationEvents` over one conversation socket."""

    runs_client_tools = True
    frames_per_message = 1  # one audio event per frame: the client plays them as they come

    def __init__(
        self,
        websocket: WebSocket,
        output_format: AudioFormat,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._websocket: WebSocket | None = websocket
        self._format = output_format
        self._clock = clock
        self._event_ids = itertools.count(1)
        # Every agent response gets the next id; its audio and text carry it, and an
        # interruption names it so clients drop whatever of it they still hold.
        self._response_event_id = 0
        self._outbox: deque[_Outgoing] = deque()
        self._writing = False
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._play_end = 0.0
        self._mark_timers: list[asyncio.TimerHandle] = []
        self._pings: dict[int, float] = {}
        self.ping_ms: int | None = None
        self.on_mark: Callable[[str], None] = lambda name: None
        self.closed = False

    # --- CallTransport ---------------------------------------------------------------------

    @property
    def output_format(self) -> AudioFormat:
        return self._format

    def new_encoder(self) -> OutboundEncoder:
        return OutboundEncoder(self._format)

    @property
    def attached(self) -> bool:
        return self._websocket is not None

    async def send_audio(self, frame: bytes) -> None:
        if self._websocket is None:
            return  # nobody hears it
        now = self._clock()
        self._play_end = max(self._play_end, now) + self._format.duration_ms(len(frame)) / 1000
        self._post(render_audio(self._response_event_id, frame), is_audio=True)

    async def send_mark(self, name: str) -> None:
        """Count the mark as heard once the audio before it has played at the client."""
        if self._websocket is None:
            return  # not heard: the client was not connected
        delay = self._play_end - self._clock() + (self.ping_ms or 0) / 2000
        loop = asyncio.get_running_loop()
        if delay <= 0:
            loop.call_soon(self.on_mark, name)
            return
        self._mark_timers = [t for t in self._mark_timers if not t.cancelled()]
        self._mark_timers.append(loop.call_later(delay, self.on_mark, name))

    async def send_clear(self) -> None:
        """The interruption: unsent audio is dropped here, buffered audio by the client."""
        for timer in self._mark_timers:
            timer.cancel()
        self._mark_timers.clear()
        self._play_end = self._clock()
        self._outbox = deque(item for item in self._outbox if not item.is_audio)
        self._post(render_interruption(self._response_event_id))
        # Audio after this (a reply resumed over a backchannel) must not match the id clients
        # now drop, so it continues under a new one.
        self._response_event_id = next(self._event_ids)

    async def hang_up(self) -> None:
        """The agent ended the conversation: finish writing, then close normally."""
        await self.drain()
        await self.close(1000)

    async def transfer(self, phone_number: str) -> None:
        raise TransferNotSupportedError("a web or app conversation cannot be transferred")

    # --- ConversationEvents ----------------------------------------------------------------

    def response_started(self) -> None:
        self._response_event_id = next(self._event_ids)

    def user_transcript(self, text: str) -> None:
        self._post(render_user_transcript(text, event_id=next(self._event_ids)))

    def agent_response(self, text: str) -> None:
        self._post(render_agent_response(text, event_id=self._response_event_id))

    def agent_response_correction(self, original: str, heard: str) -> None:
        self._post(
            render_agent_response_correction(original, heard, event_id=self._response_event_id)
        )

    def vad_score(self, probability: float) -> None:
        self._post(render_vad_score(min(1.0, max(0.0, probability))))

    def client_tool_call(
        self, tool_name: str, tool_call_id: str, parameters: dict[str, Any]
    ) -> None:
        self._post(
            render_client_tool_call(
                tool_name, tool_call_id, parameters, event_id=next(self._event_ids)
            )
        )

    # --- keep-alive ------------------------------------------------------------------------

    def ping(self) -> None:
        if self._websocket is None:
            return
        event_id = next(self._event_ids)
        self._pings[event_id] = self._clock()
        self._post(render_ping(event_id, self.ping_ms))

    def on_pong(self, event_id: int) -> bool:
        """Measure the round trip of one of our pings; False for a pong we never asked for."""
        sent = self._pings.pop(event_id, None)
        if sent is None:
            return False
        self.ping_ms = round((self._clock() - sent) * 1000)
        return True

    # --- errors and the socket -------------------------------------------------------------

    def send_error(self, message: str, code: int = 1008, error_type: str | None = None) -> None:
        """Tell the client what it did wrong; the conversation goes on unless the caller closes."""
        self._post(render_error(message, code, error_type))

    def post(self, text: str) -> None:
        """Send a rendered message after everything posted before it."""
        self._post(text)

    def _post(self, text: str, *, is_audio: bool = False, first: bool = False) -> None:
        if self.closed:
            return
        if first:
            self._outbox.appendleft(_Outgoing(text, is_audio))
        else:
            self._outbox.append(_Outgoing(text, is_audio))
        if self._websocket is None:  # kept for the client's return, written then
            if len(self._outbox) > DETACHED_BACKLOG:
                self._outbox.popleft()
            return
        self._drained.clear()
        self._wakeup.set()

    async def run_writer(self) -> None:
        """Write the outbox to the attached socket in order until the conversation closes."""
        while not self.closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._outbox and not self.closed and self._websocket is not None:
                websocket = self._websocket
                item = self._outbox.popleft()
                self._writing = True
                try:
                    await websocket.send_text(item.text)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    # The client is gone: its receive loop ends the call or holds it.
                    if self._websocket is websocket:
                        self.detach()
                finally:
                    self._writing = False
            if not self._outbox or self._websocket is None:
                self._drained.set()

    def detach(self) -> None:
        """The socket is gone: what is still to be played is not heard."""
        self._websocket = None
        for timer in self._mark_timers:
            timer.cancel()
        self._mark_timers.clear()
        self._play_end = self._clock()
        self._outbox = deque(item for item in self._outbox if not item.is_audio)
        self._pings.clear()

    def attach(self, websocket: WebSocket, first_message: str) -> None:
        """Carry on over the client's new socket; `first_message` goes before what waited."""
        self._websocket = websocket
        self._post(first_message, first=True)

    async def drain(self, timeout_s: float = 2.0) -> None:
        """Until everything posted has been written (or the socket is gone)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._drained.wait()

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = True
        for timer in self._mark_timers:
            timer.cancel()
        self._wakeup.set()
        self._drained.set()
        websocket = self._websocket
        if websocket is not None and websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code=code, reason=reason)
