import asyncio
import contextlib
import time

import pytest

from app.audio.formats import MULAW_8K, AudioChunk, AudioFormat
from app.engine.playout import Playout
from telephony.audio import OutboundEncoder

pytestmark = pytest.mark.unit


class RecordingLine:
    """A transport that records what was sent and when."""

    output_format: AudioFormat = MULAW_8K

    def __init__(self) -> None:
        self.sent: list[tuple[float, str, bytes | str]] = []

    def new_encoder(self) -> OutboundEncoder:
        return OutboundEncoder(MULAW_8K)

    async def send_audio(self, frame: bytes) -> None:
        self.sent.append((time.monotonic(), "audio", frame))

    async def send_mark(self, name: str) -> None:
        self.sent.append((time.monotonic(), "mark", name))

    async def send_clear(self) -> None:
        self.sent.append((time.monotonic(), "clear", ""))

    async def hang_up(self) -> None:
        return None

    async def transfer(self, phone_number: str) -> None:
        return None


@contextlib.asynccontextmanager
async def running(playout: Playout):  # type: ignore[no-untyped-def]
    task = asyncio.create_task(playout.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_audio_leaves_in_20ms_frames_never_more_than_the_lead_ahead_of_real_time() -> None:
    line = RecordingLine()
    playout = Playout(line, lead_ms=100)  # type: ignore[arg-type]
    second_of_audio = b"\xff" * 8000
    async with running(playout):
        start = time.monotonic()
        playout.enqueue_audio(second_of_audio)
        playout.enqueue_mark("s0", "hello")
        await asyncio.sleep(1.05)
    frames = [(at, data) for at, kind, data in line.sent if kind == "audio"]
    assert all(len(data) == 160 for _, data in frames)
    assert len(frames) == 50
    for index, (at, _) in enumerate(frames):
        audio_ahead = (index + 1) * 0.02 - (at - start)
        assert audio_ahead <= 0.1 + 0.02 + 0.015  # lead + one frame + scheduling slack
    assert line.sent[-1][1:] == ("mark", "s0")


async def test_marks_confirm_in_order_and_heard_text_holds_only_confirmed_sentences() -> None:
    line = RecordingLine()
    playout = Playout(line, lead_ms=1000)  # type: ignore[arg-type]
    async with running(playout):
        for index, text in enumerate(["One.", "Two.", "Three."]):
            playout.enqueue_audio(b"\xff" * 160)
            playout.enqueue_mark(f"t.{index}", text)
        await asyncio.sleep(0.05)
        assert playout.audible
        playout.on_mark("t.1")  # reaching the second mark means the first was played too
        assert playout.heard_text(["t.0", "t.1", "t.2"]) == "One. Two."
        await playout.clear()
        assert playout.on_mark("t.2") is None  # echoed because of the clear: not heard
        assert playout.heard_text(["t.0", "t.1", "t.2"]) == "One. Two."
        assert not playout.audible
    assert line.sent[-1][1] == "clear"


async def test_clear_drops_queued_audio_and_wait_played_returns() -> None:
    line = RecordingLine()
    playout = Playout(line, lead_ms=20)  # type: ignore[arg-type]
    async with running(playout):
        playout.enqueue_audio(b"\xff" * 16000)  # two seconds
        playout.enqueue_mark("m", "long")
        await asyncio.sleep(0.1)
        await playout.clear()
        await asyncio.wait_for(playout.wait_played(), 0.5)
        sent_before = len(line.sent)
        await asyncio.sleep(0.1)
        assert len(line.sent) == sent_before  # nothing more after the clear


def test_audio_chunk_knows_its_duration() -> None:
    chunk = AudioChunk(b"\x00" * 640, AudioFormat("pcm16", 16000))
    assert chunk.format.duration_ms(len(chunk.data)) == 20


async def test_no_frame_of_the_cleared_audio_is_sent_after_the_clear() -> None:
    line = RecordingLine()
    playout = Playout(line, lead_ms=20)  # type: ignore[arg-type]
    async with running(playout):
        playout.enqueue_audio(b"\xff" * 8000)  # one second: the loop soon waits to pace
        await asyncio.sleep(0.15)
        await playout.clear()
        await asyncio.sleep(0.1)
    kinds = [kind for _, kind, _ in line.sent]
    assert kinds[-1] == "clear"
