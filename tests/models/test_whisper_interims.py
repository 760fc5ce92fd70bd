"""Whisper tiny.en as a streaming recognizer: interims while the caller speaks, a hesitation
heard as one sentence, and no words made up from what is not speech."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.engine.turns import UserTurn
from app.observability.metrics import REGISTRY
from app.providers.base import Transcript
from app.providers.whisper.stt import WhisperSpeechToText, WhisperSttStream
from bench.utterances import espeak_pcm16, peak_normalized
from tests.audio_samples import noise, silence
from tests.models.spoken import frames, over_the_phone, speak

pytestmark = pytest.mark.models

PAUSE = silence(0.2)  # the engine finalizes once VAD has seen this much silence
LINE = silence(0.5)  # the quiet line before the caller speaks (the stream keeps 300 ms of it)


async def speak_in_real_time(stream: WhisperSttStream, pcm16: bytes) -> None:
    for frame in frames(pcm16):
        await stream.push_audio(frame)
        await asyncio.sleep(0.02)


async def push(stream: WhisperSttStream, pcm16: bytes) -> None:
    for frame in frames(pcm16):
        await stream.push_audio(frame)


async def collect_until_final(stream: WhisperSttStream, into: list[Transcript]) -> None:
    async for transcript in stream.transcripts():
        into.append(transcript)
        if transcript.is_final:
            return


async def next_final(stream: WhisperSttStream, timeout_s: float = 10.0) -> Transcript:
    async with asyncio.timeout(timeout_s):
        async for transcript in stream.transcripts():
            if transcript.is_final:
                return transcript
    raise AssertionError("the stream ended without a final")


def words(text: str) -> list[str]:
    return [word.strip(".,?!").lower() for word in text.split()]


async def test_interims_arrive_while_the_caller_speaks_and_before_the_final(
    whisper: WhisperSpeechToText,
) -> None:
    stream = await whisper.open_stream("en")
    heard: list[Transcript] = []
    listening = asyncio.create_task(collect_until_final(stream, heard))
    question = "I would like to make an appointment for next Tuesday morning please"
    await speak_in_real_time(stream, over_the_phone(LINE + speak(question)) + PAUSE)
    interims_while_speaking = [t for t in heard if not t.is_final]
    await stream.finalize()
    async with asyncio.timeout(10):
        await listening
    assert interims_while_speaking, heard
    assert all(not t.is_final for t in heard[:-1])
    assert heard[-1].is_final
    assert {"appointment", "tuesday"} <= set(words(heard[-1].text))
    # The interims grow with the utterance: the last says more than the first.
    assert len(words(interims_while_speaking[-1].text)) > len(
        words(interims_while_speaking[0].text)
    )
    await stream.aclose()


async def test_a_hesitation_split_by_a_pause_continues_one_sentence(
    whisper: WhisperSpeechToText,
) -> None:
    stream = await whisper.open_stream("en")
    await push(stream, over_the_phone(LINE + speak("I would like to make an appointment") + PAUSE))
    await stream.finalize()
    await push(stream, silence(0.5))  # the caller thinks
    await push(stream, over_the_phone(speak("on Friday afternoon") + PAUSE))
    await stream.finalize()
    first, second = await next_final(stream), await next_final(stream)
    assert {"like", "appointment"} <= set(words(first.text))
    # The second final holds the new words, and the whole sentence heard again in place of the
    # first final's words.
    assert {"friday", "afternoon"} <= set(words(second.text))
    assert "appointment" not in words(second.text)
    assert second.revises == first.text
    assert {"like", "appointment", "friday", "afternoon"} <= set(words(second.sentence))
    await stream.aclose()


@pytest.mark.parametrize("cut", [0.55, 0.6, 0.65])
async def test_a_question_a_pause_cut_mid_word_is_heard_whole(
    whisper: WhisperSpeechToText, cut: float
) -> None:
    """The VAD's pause window ended the utterance inside a word ("How much does ship-"): the
    first part alone is misheard at its edge, so the turn takes the sentence heard whole."""
    question = over_the_phone(speak("How much does shipping cost?"))
    at = int(len(question) * cut) // 2 * 2
    stream = await whisper.open_stream("en")
    await push(stream, LINE + question[:at])
    await stream.finalize()
    await push(stream, question[at:] + PAUSE)
    await stream.finalize()
    turn = UserTurn()
    for final in (await next_final(stream), await next_final(stream)):
        turn.add(final, media_ms=0, now=0.0)
    assert {"how", "much", "shipping"} <= set(words(turn.text)), turn.text
    await stream.aclose()


async def test_a_backchannel_soon_after_a_question_is_not_taken_into_it(
    whisper: WhisperSpeechToText,
) -> None:
    """ "Mm-hmm" said while the agent answers, within the join gap of the caller's question:
    read whole with the question's audio it became the question's last word ("What are your
    opening hours?" for "... opening hour?" + "mm-hmm"); heard alone it is its own words."""
    stream = await whisper.open_stream("en")
    # espeak-ng at its own pace, as bench section 4 says them (the question read alone loses
    # the "s" of "hours").
    question = peak_normalized(espeak_pcm16("What are your opening hours?"))
    await push(stream, over_the_phone(LINE + question) + PAUSE)
    await stream.finalize()
    await push(stream, silence(1.2))  # the agent starts answering
    await push(stream, over_the_phone(peak_normalized(espeak_pcm16("mm-hmm"))) + PAUSE)
    await stream.finalize()
    question, backchannel = await next_final(stream), await next_final(stream)
    assert "opening" in words(question.text)
    assert not backchannel.revises, backchannel
    assert not backchannel.sentence
    assert "opening" not in words(backchannel.text)
    assert "hours" not in words(backchannel.text)
    await stream.aclose()


async def test_line_noise_after_words_gives_no_words(whisper: WhisperSpeechToText) -> None:
    stream = await whisper.open_stream("en")
    await push(stream, over_the_phone(LINE + speak("good morning") + PAUSE))
    await stream.finalize()
    await push(stream, silence(0.4))
    await push(stream, over_the_phone(noise(1.0, dbfs=-30.0, seed=7) + PAUSE))
    await stream.finalize()
    greeting, after = await next_final(stream), await next_final(stream)
    assert "morning" in words(greeting.text)
    assert after.text == ""
    await stream.aclose()


@pytest.mark.parametrize("dbfs", [-50.0, -40.0, -30.0, -20.0])
async def test_phone_line_hiss_alone_gives_no_words(
    whisper: WhisperSpeechToText, dbfs: float
) -> None:
    stream = await whisper.open_stream("en")
    await push(stream, over_the_phone(noise(2.0, dbfs=dbfs, seed=int(-dbfs))))
    await stream.finalize()
    assert (await next_final(stream)).text == ""
    await stream.aclose()


async def test_clipped_speech_keeps_its_key_words(whisper: WhisperSpeechToText) -> None:
    loud = np.frombuffer(speak("what are your opening hours on saturday"), dtype="<i2")
    clipped = np.clip(loud.astype(np.float32) * 6, -32768, 32767).astype("<i2").tobytes()
    stream = await whisper.open_stream("en")
    await push(stream, over_the_phone(LINE + clipped) + PAUSE)
    await stream.finalize()
    assert {"hours", "saturday"} <= set(words((await next_final(stream)).text))
    await stream.aclose()


@pytest.mark.parametrize("milliseconds", [200, 300, 500])
async def test_a_very_short_utterance_gives_a_word_or_two_never_a_loop(
    whisper: WhisperSpeechToText, milliseconds: int
) -> None:
    cut = speak("what are your opening hours")[: milliseconds * 32]
    stream = await whisper.open_stream("en")
    await push(stream, over_the_phone(LINE + cut) + PAUSE)
    await stream.finalize()
    final = await next_final(stream)
    assert len(words(final.text)) <= 3, final
    await stream.aclose()


async def test_short_answers_are_heard(whisper: WhisperSpeechToText) -> None:
    stream = await whisper.open_stream("en")
    heard = []
    for answer in ("no", "okay"):
        await push(stream, over_the_phone(silence(2.0) + speak(answer)) + PAUSE)
        await stream.finalize()
        heard.append(words((await next_final(stream)).text))
    assert heard == [["no"], ["okay"]]
    await stream.aclose()


def decodes(kind: str, result: str) -> float:
    """Whisper decodes of a kind, and what became of them, counted in this process so far."""
    labels = {"kind": kind, "result": result}
    return REGISTRY.get_sample_value("velox_offline_stt_decodes_total", labels) or 0.0


async def final_of(whisper: WhisperSpeechToText, pcm16: bytes, early: bool) -> Transcript:
    """The final for `pcm16` followed by the 160 ms pause, started early (at 60 ms) or not."""
    stream = await whisper.open_stream("en")
    await push(stream, pcm16 + silence(0.06))
    if early:
        await stream.caller_pausing(100)
    await push(stream, silence(0.1))  # the pause is confirmed meanwhile
    await stream.finalize()
    final = await next_final(stream)
    await stream.aclose()
    return final


@pytest.mark.parametrize(
    "question",
    [
        "What are your opening hours?",
        "Do you take new patients?",
        "How much does a cleaning cost?",
        "I would like to book an appointment for next Tuesday morning please",
    ],
)
async def test_a_final_started_when_the_caller_went_quiet_stands_for_the_final(
    whisper: WhisperSpeechToText, question: str
) -> None:
    pcm = over_the_phone(LINE + peak_normalized(espeak_pcm16(question)))
    finals_before, early_before = decodes("final", "decoded"), decodes("early", "decoded")
    early = await final_of(whisper, pcm, early=True)
    # One decode, the early one: the pause added nothing to decode.
    assert decodes("early", "decoded") - early_before == 1
    assert decodes("final", "decoded") == finals_before
    # It heard what the final heard: Whisper's last words and stop change with the silence
    # after them, so the early decode is given the pause's silence to come.
    assert early.text == (await final_of(whisper, pcm, early=False)).text


@pytest.mark.parametrize("told_again", [True, False])
async def test_words_after_the_quiet_are_decoded_with_the_rest(
    whisper: WhisperSpeechToText, told_again: bool
) -> None:
    """The caller speaks on after a quiet: the early decode is dropped, whether the next quiet
    is told (it then stands for the final) or not (the final decodes the whole utterance)."""
    stream = await whisper.open_stream("en")
    discarded_before = decodes("early", "unused") + decodes("early", "withdrawn")
    await push(stream, over_the_phone(LINE + speak("I would like to make")))
    await push(stream, silence(0.06))
    await stream.caller_pausing(100)
    await push(stream, over_the_phone(speak("an appointment on Friday")) + PAUSE)
    if told_again:
        await stream.caller_pausing(0)
    await stream.finalize()
    final = await next_final(stream)
    assert {"like", "appointment", "friday"} <= set(words(final.text)), final
    assert decodes("early", "unused") + decodes("early", "withdrawn") - discarded_before == 1
    await stream.aclose()
