"""Audio conversion: G.711 codecs, stateful resampling, framing and the transport edge."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest

from app.audio.formats import MULAW_8K, PCM16_16K, AudioChunk, AudioFormat
from app.audio.levels import DBFS_FLOOR, pcm16_dbfs, pcm16_rms
from telephony.audio import (
    FrameSlicer,
    InboundConverter,
    OutboundEncoder,
    StreamingResampler,
    UnsupportedAudioFormatError,
    alaw_to_pcm16,
    mulaw_to_pcm16,
    pcm16_to_alaw,
    pcm16_to_mulaw,
)
from tests.audio_samples import noise, silence, speech_like, tone

pytestmark = pytest.mark.unit

ALAW_8K = AudioFormat(cast(Any, "alaw"), 8000)
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int32)


def samples(pcm16: bytes) -> np.ndarray:
    return np.frombuffer(pcm16, dtype="<i2").astype(np.int64)


def pcm(values: np.ndarray | list[int]) -> bytes:
    return np.asarray(values, dtype="<i2").tobytes()


def dominant_frequency(pcm16: bytes, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples(pcm16) * np.hanning(len(pcm16) // 2)))
    return float(np.fft.rfftfreq(len(pcm16) // 2, 1 / sample_rate)[np.argmax(spectrum)])


# --- reference G.711 written from the standard's formulas, one sample at a time -----------------


def reference_mulaw_decode(code: int) -> int:
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - magnitude if code & 0x80 else magnitude - 0x84


def reference_mulaw_encode(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent, mask = 7, 0x4000
    while not magnitude & mask and exponent > 0:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | exponent << 4 | mantissa) & 0xFF


def reference_alaw_decode(code: int) -> int:
    code ^= 0x55
    value = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        value += 8
    else:
        value = (value + 0x108) << (segment - 1)
    return value if code & 0x80 else -value


def reference_alaw_encode(sample: int) -> int:
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = 0
    for end in (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF):
        if value <= end:
            break
        segment += 1
    if segment >= 8:
        return 0x7F ^ mask
    shift = 1 if segment < 2 else segment
    return ((segment << 4) | ((value >> shift) & 0x0F)) ^ mask


SAMPLE_SPREAD = [-32768, -32767, -32636, -32635, -20000, -1000, -132, -33, -2, -1, 0, 1, 2, 31]
SAMPLE_SPREAD += [32, 100, 131, 132, 1000, 4095, 4096, 8159, 8160, 20000, 32635, 32636, 32767]
SAMPLE_SPREAD += list(range(-32768, 32768, 97))


def test_mulaw_decode_matches_g711_for_all_256_codes() -> None:
    decoded = samples(mulaw_to_pcm16(bytes(range(256))))
    assert decoded.tolist() == [reference_mulaw_decode(code) for code in range(256)]


def test_mulaw_encode_matches_g711_over_a_spread_of_samples() -> None:
    encoded = pcm16_to_mulaw(pcm(SAMPLE_SPREAD))
    assert list(encoded) == [reference_mulaw_encode(s) for s in SAMPLE_SPREAD]


def test_mulaw_encodes_known_values() -> None:
    assert pcm16_to_mulaw(pcm([0, -1, 32767, -32768])) == bytes([0xFF, 0x7F, 0x80, 0x00])


def test_mulaw_round_trip_error_is_within_half_a_quantisation_step() -> None:
    in_range = ALL_INT16[np.abs(ALL_INT16) <= 32635]
    decoded = samples(mulaw_to_pcm16(pcm16_to_mulaw(pcm(in_range))))
    # Segment e has step 8 << e and holds biased magnitudes >= 128 << e.
    assert np.all(np.abs(decoded - in_range) <= (np.abs(in_range) + 0x84) / 32)


def test_mulaw_decode_of_encode_is_stable_for_every_code() -> None:
    decoded = mulaw_to_pcm16(bytes(range(256)))
    assert pcm16_to_mulaw(decoded) == bytes(range(256)).replace(b"\x7f", b"\xff")


def test_alaw_decode_matches_g711_for_all_256_codes() -> None:
    decoded = samples(alaw_to_pcm16(bytes(range(256))))
    assert decoded.tolist() == [reference_alaw_decode(code) for code in range(256)]


def test_alaw_encode_matches_g711_over_a_spread_of_samples() -> None:
    encoded = pcm16_to_alaw(pcm(SAMPLE_SPREAD))
    assert list(encoded) == [reference_alaw_encode(s) for s in SAMPLE_SPREAD]


def test_alaw_round_trip_error_is_within_half_a_quantisation_step() -> None:
    decoded = samples(alaw_to_pcm16(pcm16_to_alaw(pcm(ALL_INT16))))
    assert np.all(np.abs(decoded - ALL_INT16) <= np.maximum(16, np.abs(ALL_INT16) / 32))
    assert pcm16_to_alaw(alaw_to_pcm16(bytes(range(256)))) == bytes(range(256))


def test_encoders_reject_a_half_sample() -> None:
    with pytest.raises(ValueError, match="even number of bytes"):
        pcm16_to_mulaw(b"\x00\x00\x00")


# --- levels --------------------------------------------------------------------------------------


def test_rms_of_a_half_scale_sine_is_its_peak_over_root_two() -> None:
    frame = tone(1000, 0.1, 0.5)
    assert pcm16_rms(frame) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    assert pcm16_dbfs(frame) == pytest.approx(-9.03, abs=0.02)


def test_silence_measures_the_dbfs_floor() -> None:
    assert pcm16_rms(silence(0.02)) == 0.0
    assert pcm16_dbfs(silence(0.02)) == DBFS_FLOOR
    assert pcm16_dbfs(b"") == DBFS_FLOOR


def test_speech_like_and_noise_samples_have_the_level_asked_for() -> None:
    assert pcm16_dbfs(speech_like(0.5, dbfs=-12)) == pytest.approx(-12, abs=0.1)
    assert pcm16_dbfs(noise(0.5, dbfs=-40)) == pytest.approx(-40, abs=0.3)


# --- resampling ----------------------------------------------------------------------------------

RATE_PAIRS = [(8000, 16000), (16000, 8000), (22050, 8000), (24000, 16000), (44100, 16000)]


@pytest.mark.parametrize(("in_rate", "out_rate"), RATE_PAIRS)
def test_resampling_in_20ms_chunks_equals_resampling_in_one_piece(
    in_rate: int, out_rate: int
) -> None:
    signal = tone(440, 1.0, 0.5, in_rate)
    whole = StreamingResampler(in_rate, out_rate)
    expected = samples(whole.resample_chunk(signal) + whole.flush())
    chunked = StreamingResampler(in_rate, out_rate)
    step = in_rate // 50 * 2
    pieces = [chunked.resample_chunk(signal[i : i + step]) for i in range(0, len(signal), step)]
    got = samples(b"".join(pieces) + chunked.flush())
    assert len(got) == len(expected)
    assert np.max(np.abs(got - expected)) <= 1


@pytest.mark.parametrize(("in_rate", "out_rate"), RATE_PAIRS)
def test_output_tracks_the_rate_ratio_chunk_after_chunk_less_than_4ms_behind(
    in_rate: int, out_rate: int
) -> None:
    resampler = StreamingResampler(in_rate, out_rate)
    chunk = tone(300, 0.02, 0.3, in_rate)
    produced = 0
    for n in range(1, 201):
        produced += len(resampler.resample_chunk(chunk)) // 2
        expected = n * (len(chunk) // 2) * out_rate / in_rate
        assert expected - 0.004 * out_rate <= produced <= expected + 2, f"after {n} chunks"


def test_resampled_tone_keeps_its_pitch_and_level() -> None:
    out = StreamingResampler(8000, 16000).resample_chunk(tone(440, 1.0, 0.5, 8000))
    assert dominant_frequency(out, 16000) == pytest.approx(440, abs=2)
    assert pcm16_dbfs(out[3200:]) == pytest.approx(pcm16_dbfs(tone(440, 1.0, 0.5)), abs=0.2)


def test_downsampling_removes_content_above_the_new_nyquist_frequency() -> None:
    resampler = StreamingResampler(22050, 8000)
    aliased = resampler.resample_chunk(tone(6000, 0.5, 0.5, 22050))
    assert pcm16_dbfs(aliased[800:]) < -60
    kept = StreamingResampler(22050, 8000).resample_chunk(tone(1000, 0.5, 0.5, 22050))
    assert pcm16_dbfs(kept[800:]) == pytest.approx(pcm16_dbfs(tone(1000, 0.5, 0.5)), abs=0.5)


def test_equal_rates_pass_audio_through_unchanged() -> None:
    signal = speech_like(0.1)
    assert StreamingResampler(16000, 16000).resample_chunk(signal) == signal


def test_an_odd_trailing_byte_waits_for_the_next_chunk() -> None:
    signal = speech_like(0.04)
    resampler = StreamingResampler(16000, 16000)
    assert resampler.resample_chunk(signal[:101]) + resampler.resample_chunk(signal[101:]) == signal


def test_flush_releases_held_samples_and_starts_a_fresh_stream() -> None:
    signal = tone(440, 0.2, 0.5, 22050)
    resampler = StreamingResampler(22050, 8000)
    first = resampler.resample_chunk(signal)
    tail = resampler.flush()
    assert len(tail) > 0
    assert abs((len(first) + len(tail)) / 2 - 0.2 * 8000) <= 4
    assert resampler.resample_chunk(signal) == first


def test_reset_forgets_the_previous_stream() -> None:
    resampler = StreamingResampler(8000, 16000)
    resampler.resample_chunk(noise(0.1, sample_rate=8000))
    resampler.reset()
    fresh = StreamingResampler(8000, 16000)
    signal = tone(440, 0.1, 0.5, 8000)
    assert resampler.resample_chunk(signal) == fresh.resample_chunk(signal)


# --- framing -------------------------------------------------------------------------------------


def test_slicer_yields_whole_frames_in_order_and_holds_the_rest() -> None:
    slicer = FrameSlicer(4)
    assert slicer.push(b"abcdef") == [b"abcd"]
    assert slicer.pending == 2
    assert slicer.push(b"ghijklmnop") == [b"efgh", b"ijkl", b"mnop"]
    assert slicer.pending == 0
    assert slicer.push(b"") == []


def test_slicer_flush_pads_mulaw_with_mulaw_silence() -> None:
    slicer = FrameSlicer.for_format(MULAW_8K)
    assert slicer.push(b"\x01" * 170) == [b"\x01" * 160]
    assert slicer.flush(pad=True) == b"\x01" * 10 + b"\xff" * 150
    assert slicer.pending == 0


def test_slicer_flush_pads_pcm16_with_zeros() -> None:
    slicer = FrameSlicer.for_format(PCM16_16K)
    slicer.push(b"\x01\x02" * 10)
    assert slicer.flush(pad=True) == b"\x01\x02" * 10 + bytes(620)


def test_slicer_flush_without_padding_returns_the_bare_remainder() -> None:
    slicer = FrameSlicer(160)
    slicer.push(b"\x07" * 30)
    assert slicer.flush() == b"\x07" * 30
    assert slicer.flush(pad=True) == b""


# --- the transport edge --------------------------------------------------------------------------


def test_inbound_mulaw_becomes_640_byte_pcm16_16k_frames_of_the_same_sound() -> None:
    converter = InboundConverter(MULAW_8K)
    wire = pcm16_to_mulaw(tone(440, 1.0, 0.5, 8000))
    frames = [f for i in range(0, len(wire), 160) for f in converter.push(wire[i : i + 160])]
    assert len(frames) in (49, 50)
    assert {len(f) for f in frames} == {640}
    heard = b"".join(frames)
    assert dominant_frequency(heard, 16000) == pytest.approx(440, abs=2)
    assert pcm16_dbfs(heard[640:]) == pytest.approx(-9.03, abs=0.3)


def test_inbound_alaw_is_decoded_like_mulaw() -> None:
    converter = InboundConverter(ALAW_8K)
    frames = converter.push(pcm16_to_alaw(tone(440, 0.5, 0.5, 8000)))
    assert dominant_frequency(b"".join(frames), 16000) == pytest.approx(440, abs=4)


@pytest.mark.parametrize(
    ("wire_format", "encode", "decode"),
    [(MULAW_8K, pcm16_to_mulaw, mulaw_to_pcm16), (ALAW_8K, pcm16_to_alaw, alaw_to_pcm16)],
)
def test_g711_goes_to_the_resampler_as_the_same_samples_as_through_pcm16(
    wire_format: AudioFormat, encode: Any, decode: Any
) -> None:
    wire = encode(speech_like(0.5, sample_rate=8000))
    converter = InboundConverter(wire_format)
    through_pcm16 = StreamingResampler(8000, 16000)
    direct, reference = b"", b""
    for start in range(0, len(wire), 160):
        chunk = wire[start : start + 160]
        direct += b"".join(converter.push(chunk))
        reference += through_pcm16.resample_chunk(decode(chunk))
    assert len(direct) >= 640 * 20
    assert direct == reference[: len(direct)]


def test_inbound_pcm16_16k_is_only_sliced() -> None:
    signal = speech_like(0.1)
    converter = InboundConverter(PCM16_16K)
    frames = converter.push(signal[:999]) + converter.push(signal[999:])
    assert frames == [signal[i : i + 640] for i in range(0, len(signal), 640)]


def test_inbound_pcm16_at_another_rate_is_resampled_to_16k() -> None:
    converter = InboundConverter(AudioFormat("pcm16", 48000))
    frames = converter.push(tone(1000, 0.5, 0.5, 48000))
    assert len(frames) in (24, 25)
    assert dominant_frequency(b"".join(frames), 16000) == pytest.approx(1000, abs=4)


def test_g711_at_a_rate_other_than_8k_is_refused() -> None:
    with pytest.raises(UnsupportedAudioFormatError, match="8000"):
        InboundConverter(AudioFormat("mulaw", 16000))
    with pytest.raises(UnsupportedAudioFormatError, match="opus"):
        OutboundEncoder(AudioFormat(cast(Any, "opus"), 48000))


def test_audio_already_in_the_wire_format_passes_through_untouched() -> None:
    encoder = OutboundEncoder(MULAW_8K)
    data = bytes(range(256))
    assert encoder.encode(AudioChunk(data, MULAW_8K)) is data


def test_pcm16_16k_is_encoded_to_mulaw_8k_at_half_the_samples() -> None:
    encoder = OutboundEncoder(MULAW_8K)
    signal = tone(440, 1.0, 0.5)
    out = b"".join(
        encoder.encode(AudioChunk(signal[i : i + 640], PCM16_16K))
        for i in range(0, len(signal), 640)
    )
    out += encoder.flush()
    assert abs(len(out) - 8000) <= 4
    decoded = mulaw_to_pcm16(out)
    assert dominant_frequency(decoded, 8000) == pytest.approx(440, abs=2)
    assert pcm16_dbfs(decoded[800:]) == pytest.approx(-9.03, abs=0.3)


def test_chunked_encoding_equals_encoding_in_one_piece() -> None:
    tts = AudioFormat("pcm16", 22050)
    signal = speech_like(0.5, sample_rate=22050)
    whole = OutboundEncoder(MULAW_8K)
    expected = whole.encode(AudioChunk(signal, tts)) + whole.flush()
    chunked = OutboundEncoder(MULAW_8K)
    # 883 bytes is odd, so chunk edges fall inside samples as they do from an HTTP TTS stream.
    pieces = [
        chunked.encode(AudioChunk(signal[i : i + 883], tts)) for i in range(0, len(signal), 883)
    ]
    got = b"".join(pieces) + chunked.flush()
    assert len(got) == len(expected)
    assert np.max(np.abs(samples(mulaw_to_pcm16(got)) - samples(mulaw_to_pcm16(expected)))) <= 16


def test_a_new_input_rate_keeps_the_old_streams_tail() -> None:
    encoder = OutboundEncoder(MULAW_8K)
    out = encoder.encode(AudioChunk(tone(440, 0.2, 0.5, 22050), AudioFormat("pcm16", 22050)))
    out += encoder.encode(AudioChunk(tone(440, 0.2, 0.5, 16000), PCM16_16K))
    out += encoder.flush()
    assert abs(len(out) - 0.4 * 8000) <= 4


def test_mulaw_agent_audio_is_converted_to_a_pcm16_wire() -> None:
    encoder = OutboundEncoder(PCM16_16K)
    out = encoder.encode(AudioChunk(pcm16_to_mulaw(tone(440, 0.5, 0.5, 8000)), MULAW_8K))
    assert abs(len(out) / 2 - 8000) <= 8
    assert dominant_frequency(out, 16000) == pytest.approx(440, abs=4)


def test_pcm16_is_encoded_to_alaw() -> None:
    encoder = OutboundEncoder(ALAW_8K)
    out = encoder.encode(AudioChunk(tone(440, 0.5, 0.5, 8000), AudioFormat("pcm16", 8000)))
    assert out == pcm16_to_alaw(tone(440, 0.5, 0.5, 8000))


def test_reset_drops_resampler_state() -> None:
    encoder = OutboundEncoder(MULAW_8K)
    encoder.encode(AudioChunk(noise(0.3), PCM16_16K))
    encoder.reset()
    assert encoder.flush() == b""
    chunk = AudioChunk(tone(440, 0.1, 0.5), PCM16_16K)
    assert encoder.encode(chunk) == OutboundEncoder(MULAW_8K).encode(chunk)
