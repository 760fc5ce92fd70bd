"""`velox talk`: a typed conversation with an agent over its conversation socket, from a terminal.

The way to try an agent with no phone number and no microphone: the same socket, engine and
agent as a web or app conversation, with the caller's turns typed (`user_message`) and the
agent's answers printed as they are said (`agent_response`). The audio is not played, but it is
listened to in time: the next line is sent once the agent would have finished saying its answer
(a line sent sooner would cut it short, as a caller speaking over it does, and the transcript
would keep only what was heard). Lines are read one turn at a time, so a file or a pipe works
as well as a keyboard; the conversation is saved like any other and can be read back by its id.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.audio.formats import AudioFormat, UnknownFormatNameError, format_named

# How long to wait for the agent's first message, and for its answer to each typed turn.
GREETING_WAIT_S = 15.0
ANSWER_WAIT_S = 60.0
QUIT_WORDS = frozenset({"/bye", "/quit", "/exit"})
# The agent is done speaking once its audio has played out and none came for this long.
QUIET_S = 0.4
# An answer's audio follows its text within this (the voice's first byte); a text-only agent
# sends none.
AUDIO_START_WAIT_S = 5.0


@dataclass
class _Listener:
    say: Callable[[str], None]
    conversation_id: str | None = None
    answers: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    output_format: AudioFormat | None = None
    # When the agent's audio received so far ends, played in real time; when the last came.
    speaking_until: float = 0.0
    last_audio_at: float = 0.0
    audio_started: asyncio.Event = field(default_factory=asyncio.Event)

    def answered(self, text: str) -> None:
        if time.monotonic() - self.last_audio_at > QUIET_S:
            self.audio_started.clear()  # its audio is still to come
        self.answers.put_nowait(text)

    def heard(self, audio_base_64: str) -> None:
        if self.output_format is None:
            return
        try:
            size = len(base64.b64decode(audio_base_64, validate=True))
        except (binascii.Error, ValueError):
            return
        now = time.monotonic()
        rate = self.output_format.sample_rate * self.output_format.bytes_per_sample
        self.speaking_until = max(self.speaking_until, now) + size / rate
        self.last_audio_at = now
        self.audio_started.set()

    async def until_quiet(self) -> None:
        """Until the agent's audio has played out and no more is coming."""
        while True:
            now = time.monotonic()
            wait = max(self.speaking_until - now, self.last_audio_at + QUIET_S - now)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def run(self, socket: ClientConnection) -> None:
        async for raw in socket:
            if isinstance(raw, bytes):
                continue
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "conversation_initiation_metadata":
                event = message.get("conversation_initiation_metadata_event", {})
                self.conversation_id = event.get("conversation_id")
                try:
                    self.output_format = format_named(event.get("agent_output_audio_format"))
                except UnknownFormatNameError:
                    self.output_format = None  # then its audio is not timed
                self.started.set()
            elif kind == "audio":
                self.heard(message.get("audio_event", {}).get("audio_base_64", ""))
            elif kind == "agent_response":
                text = message.get("agent_response_event", {}).get("agent_response", "")
                self.say(f"agent> {text}")
                self.answered(text)
            elif kind == "agent_response_correction":
                event = message.get("agent_response_correction_event", {})
                self.say(f"agent (cut short)> {event.get('corrected_agent_response', '')}")
            elif kind == "ping":
                event_id = message.get("ping_event", {}).get("event_id")
                await socket.send(json.dumps({"type": "pong", "event_id": event_id}))
            elif kind == "error":
                self.say(f"error> {_error_text(message)}")


def _error_text(message: dict[str, Any]) -> str:
    event = message.get("error_event") or message.get("error") or message
    if isinstance(event, dict):
        return str(event.get("message") or event.get("reason") or event)
    return str(event)


def socket_url(base_url: str, agent_id: str) -> str:
    scheme, _, rest = base_url.rstrip("/").partition("://")
    ws = {"http": "ws", "https": "wss"}.get(scheme, scheme)
    return f"{ws}://{rest}/v1/convai/conversation?{urlencode({'agent_id': agent_id})}"


async def talk(
    base_url: str,
    agent_id: str,
    api_key: str | None,
    lines: TextIO,
    say: Callable[[str], None],
    *,
    greeting_wait_s: float = GREETING_WAIT_S,
    answer_wait_s: float = ANSWER_WAIT_S,
) -> str | None:
    """Hold one typed conversation; the conversation's id (None if it never started)."""
    headers = {"xi-api-key": api_key} if api_key else {}
    listener = _Listener(say)
    async with connect(
        socket_url(base_url, agent_id), additional_headers=headers, max_size=2**22
    ) as socket:
        reader = asyncio.create_task(listener.run(socket))
        try:
            await socket.send(json.dumps({"type": "conversation_initiation_client_data"}))
            if not await _wait(listener.started.wait(), greeting_wait_s, reader):
                say("the conversation did not start")
                return None
            say(f"conversation {listener.conversation_id} started; type a line and press Enter")
            await _next_answer(listener, greeting_wait_s, reader)  # the first message, if any
            while not reader.done():
                line = await asyncio.to_thread(lines.readline)
                text = line.strip()
                if not line or text in QUIT_WORDS:
                    break
                if not text:
                    continue
                await socket.send(json.dumps({"type": "user_message", "text": text}))
                if not await _next_answer(listener, answer_wait_s, reader):
                    say(f"(no answer within {answer_wait_s:.0f} s)")
        except ConnectionClosed:
            pass
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    return listener.conversation_id


async def _next_answer(listener: _Listener, wait_s: float, reader: asyncio.Task[None]) -> bool:
    """The agent's next answer, said to its end; False if none came within `wait_s`."""
    if not await _wait(listener.answers.get(), wait_s, reader):
        return False
    if await _wait(listener.audio_started.wait(), AUDIO_START_WAIT_S, reader):
        await _wait(listener.until_quiet(), wait_s, reader)
    return True


async def _wait(awaitable: Any, wait_s: float, reader: asyncio.Task[None]) -> bool:
    """True once `awaitable` is done; False after `wait_s` or when the socket closed first."""
    waiting = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({waiting, reader}, timeout=wait_s, return_when="FIRST_COMPLETED")
    if waiting not in done:
        waiting.cancel()
        return False
    return True


def main(base_url: str, agent_id: str, api_key: str | None) -> int:
    def say(text: str) -> None:
        print(text, flush=True)

    try:
        conversation_id = asyncio.run(talk(base_url, agent_id, api_key, sys.stdin, say))
    except InvalidStatus as refused:  # the upgrade was answered with an HTTP error
        body = refused.response.body.decode("utf-8", "replace") if refused.response.body else ""
        status = refused.response.status_code
        print(f"velox talk: refused with HTTP {status}: {body}", file=sys.stderr)
        return 1
    except (OSError, ConnectionClosed) as error:
        print(f"velox talk: cannot talk to {base_url}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if conversation_id is None:
        return 1
    print(
        f"saved as {conversation_id}: read it with "
        f"curl -H 'xi-api-key: …' {base_url.rstrip('/')}/v1/convai/conversations/{conversation_id}"
    )
    return 0
