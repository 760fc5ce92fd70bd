import asyncio
import contextlib
import math
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


async def test_a_line_that_takes_several_frames_gets_them_together_never_below_the_lead() -> None:
    line = RecordingLine()
    playout = Playout(line, lead_ms=100, frames_per_send=3)  # type: ignore[arg-type]
    async with running(playout):
        start = time.monotonic()
        playout.enqueue_audio(b"\xff" * 8000)  # one second
        playout.enqueue_mark("s0", "hello")
        playout.enqueue_audio(b"\xff" * 400)  # two and a half frames after the mark
        playout.enqueue_mark("s1", "again")
        await asyncio.sleep(1.2)
    kinds = [kind for _, kind, _ in line.sent]
    assert kinds[-3:] == ["mark", "audio", "mark"]
    assert kinds.count("audio") == 17 + 1  # 50 frames in threes (and a two), then s1's
    messages = [(at, data) for at, kind, data in line.sent if kind == "audio"]
    assert [len(data) for _, data in messages[:16]] == [480] * 16
    assert len(messages[16][1]) == 320  # the last two: the mark that follows is not audio
    assert len(messages[17][1]) == 400  # two frames and the part-frame that ends a sentence
    assert playout.stats.frames_sent == 53
    sent_s = 0.0
    for at, data in messages[:17]:
        # Never more ahead of real time than the lead plus one message (a late loop only
        # lowers it; the pacing that waits for the lead is the single-frame test's).
        sent_s += len(data) / 8000
        assert sent_s - (at - start) <= 0.1 + 0.06 + 0.015


async def test_a_hold_keeps_the_unheard_frames_of_a_message_sent_together() -> None:
    line = RecordingLine()
    playout = Playout(line, lead_ms=100, frames_per_send=3)  # type: ignore[arg-type]
    async with running(playout):
        playout.enqueue_audio(b"\xff" * 4000)  # half a second
        playout.enqueue_mark("s0", "half a second")
        await asyncio.sleep(0.2)
        assert await playout.hold()
        sent_before = sum(len(d) for _, kind, d in line.sent if kind == "audio")
        playout.resume()
        await asyncio.sleep(0.7)
    resent = sum(len(d) for _, kind, d in line.sent if kind == "audio") - sent_before
    # What was never sent, and again what was sent but not yet played at the hold: the audio
    # ahead of real time at the clear, by the line's own record of when each message left (on
    # an idle machine the lead and up to a message more; less when the sender ran late).
    unplayed = resent - (4000 - sent_before)
    ahead_frames = frames_ahead_at_clear(line.sent)
    assert 160 * ahead_frames <= unplayed <= 160 * (ahead_frames + 1)
    assert unplayed <= 160 * 9  # never more than the lead and a message
    assert [kind for _, kind, _ in line.sent][-1] == "mark"


def frames_ahead_at_clear(sent: list[tuple[float, str, bytes | str]]) -> int:
    """Whole 20 ms frames sent but not yet played when the first `clear` left."""
    play_end = 0.0
    for at, kind, data in sent:
        if kind == "clear":
            return math.ceil(max(0.0, play_end - at) / 0.02 - 1e-6)
        if kind == "audio":
            for _ in range(len(data) // 160):
                play_end = max(play_end, at) + 0.02
    raise AssertionError("no clear was sent")
