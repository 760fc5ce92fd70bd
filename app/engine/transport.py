"""What the engine needs from a transport (Twilio, SIP, WebSocket), and nothing more."""

from __future__ import annotations

from typing import Any, Protocol

from app.audio.formats import AudioChunk, AudioFormat


class TransferNotSupportedError(RuntimeError):
    """This line cannot hand the caller to a person (a web or app conversation has no phone
    line; a SIP trunk refused or failed the REFER): the agent is told the transfer failed."""


class AudioEncoder(Protocol):
    """Turns agent audio into the transport's wire format, keeping resampler state."""

    def encode(self, chunk: AudioChunk) -> bytes: ...

    def flush(self) -> bytes:
        """The last few samples held for resampling, at the end of an utterance."""
        ...

    def reset(self) -> None:
        """Forget buffered state (after a barge-in the next audio is unrelated)."""

    def level_dbfs(self, frame: bytes) -> float:
        """How loud an encoded frame is (dBFS), to find gaps between words and agent echo."""
        ...

    def decode(self, frame: bytes) -> bytes:
        """An encoded frame back as PCM16 at the wire's rate (what the caller hears, recorded)."""
        ...


class CallAudioTap(Protocol):
    """Receives a call's two legs as they happen, for its recording. Called on the event loop:
    it must only take the audio and return at once.

    `caller_frame`: one 20 ms engine frame the caller sent (PCM16, 16 kHz). `agent_frame`: one
    frame of agent audio (PCM16 at `rate_hz`) that starts playing at the far end at `plays_at`
    (the session clock). `cleared`: the far end dropped whatever it had not played by `at`.
    """

    def caller_frame(self, pcm16: bytes) -> None: ...

    def agent_frame(self, pcm16: bytes, rate_hz: int, plays_at: float) -> None: ...

    def cleared(self, at: float) -> None: ...

    async def close(self) -> dict[str, Any]:
        """The call is over: write what is left and finish the file. What to store with the
        call about its recording (plain data: where it is, which legs it holds)."""


class CallTransport(Protocol):
    """The engine's view of the line. Frames are one 20 ms frame of `output_format`."""

    @property
    def output_format(self) -> AudioFormat: ...

    @property
    def frames_per_message(self) -> int:
        """How many frames `send_audio` may be given at once (whole frames, in order, played
        one after the other); 1 for a line paced frame by frame."""
        ...

    def new_encoder(self) -> AudioEncoder: ...

    async def send_audio(self, frame: bytes) -> None: ...

    async def send_mark(self, name: str) -> None:
        """Ask the far end to report `name` back (via `CallSession.on_mark`) once played."""

    async def send_clear(self) -> None:
        """Drop agent audio the far end has buffered but not yet played."""

    async def hang_up(self) -> None: ...

    async def transfer(self, phone_number: str) -> None:
        """Hand the caller to a person at `phone_number`; the session ends afterwards."""


class ConversationEvents:
    """What a far end that shows the conversation (a web or app client) is told as it happens.

    A phone line has no screen, so the defaults do nothing; a transport that has one
    overrides what it can show.
    """

    # Whether the far end can run the agent's client tools (a phone line cannot).
    runs_client_tools = False

    def response_started(self) -> None:
        """An agent response begins: the audio and text that follow belong to it."""

    def user_transcript(self, text: str) -> None:
        """The caller's finished turn, as understood."""

    def agent_response(self, text: str) -> None:
        """All the text of an agent response, once the LLM has finished it."""

    def agent_response_correction(self, original: str, heard: str) -> None:
        """A barge-in cut the response: `heard` is what the caller actually heard of it."""

    def interruption(self) -> None:
        """The caller cut in: drop agent audio not yet played."""

    def vad_score(self, probability: float) -> None:
        """Speech probability of the caller's latest 20 ms frame."""

    def client_tool_call(
        self, tool_name: str, tool_call_id: str, parameters: dict[str, Any]
    ) -> None:
        """Ask the far end to run one of its tools; it answers through the session."""
