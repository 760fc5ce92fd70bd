"""The one home of audio conversion: G.711 codecs, stateful resampling and 20 ms framing.

Nothing else in Velox converts audio (and nothing uses `audioop`, which left the standard library
in Python 3.13). PCM16 here is always signed 16-bit little-endian mono.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import soxr
from numpy.typing import NDArray

from app.audio.formats import ENGINE_SAMPLE_RATE, PCM16_16K, AudioChunk, AudioFormat
from app.audio.levels import pcm16_dbfs

_PCM16 = np.dtype("<i2")
_FULL_SCALE = 32768.0

MULAW_SILENCE = 0xFF
"""The mu-law code of a zero sample."""
ALAW_SILENCE = 0xD5
"""The A-law code of a zero sample."""


class UnsupportedAudioFormatError(ValueError):
    """An audio format this module cannot convert; use pcm16 (any rate), mulaw or alaw at 8 kHz."""


def _as_samples(pcm16: bytes) -> NDArray[np.int16]:
    if len(pcm16) % 2:
        raise ValueError(f"PCM16 needs an even number of bytes, got {len(pcm16)}")
    return np.frombuffer(pcm16, dtype=_PCM16)


# --- G.711 mu-law --------------------------------------------------------------------------------

_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635
# Segment of a biased magnitude: the position of the highest set bit of (magnitude >> 7).
_SEGMENT_OF_HIGH_BYTE = np.array([max(i.bit_length() - 1, 0) for i in range(256)], dtype=np.int32)


def _build_mulaw_decode_table() -> NDArray[np.int16]:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_mulaw_encode_table() -> NDArray[np.uint8]:
    # Indexed by the uint16 view of every int16 sample, so encoding is a single lookup.
    samples = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _MULAW_CLIP) + _MULAW_BIAS
    exponent = _SEGMENT_OF_HIGH_BYTE[(magnitude >> 7) & 0xFF]
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    codes: NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return codes


_MULAW_TO_PCM16 = _build_mulaw_decode_table()
_PCM16_TO_MULAW = _build_mulaw_encode_table()


def mulaw_to_pcm16(mulaw: bytes) -> bytes:
    """Decode G.711 mu-law bytes to PCM16, one sample per byte."""
    codes = np.frombuffer(mulaw, dtype=np.uint8)
    return _MULAW_TO_PCM16[codes].tobytes()


def pcm16_to_mulaw(pcm16: bytes) -> bytes:
    """Encode PCM16 to G.711 mu-law (bias 0x84, clip 32635), one byte per sample."""
    return _PCM16_TO_MULAW[_as_samples(pcm16).view(np.uint16)].tobytes()


# --- G.711 A-law ---------------------------------------------------------------------------------


def _build_alaw_decode_table() -> NDArray[np.int16]:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    mantissa = (codes & 0x0F) << 4
    segment = (codes >> 4) & 0x07
    magnitude = np.where(
        segment == 0,
        mantissa + 8,
        (mantissa + 0x108) << np.maximum(segment - 1, 0),
    )
    return np.where(codes & 0x80, magnitude, -magnitude).astype(np.int16)


def _build_alaw_encode_table() -> NDArray[np.uint8]:
    samples = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32) >> 3
    mask = np.where(samples >= 0, 0xD5, 0x55)
    magnitude = np.where(samples >= 0, samples, -samples - 1)
    # Segment boundaries of the 13-bit magnitude: 0x1F, 0x3F, 0x7F, ... 0xFFF.
    segment = np.searchsorted(
        np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]), magnitude
    )
    shift = np.where(segment < 2, 1, segment)
    code = (segment << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


_ALAW_TO_PCM16 = _build_alaw_decode_table()
_PCM16_TO_ALAW = _build_alaw_encode_table()


def alaw_to_pcm16(alaw: bytes) -> bytes:
    """Decode G.711 A-law bytes to PCM16, one sample per byte."""
    codes = np.frombuffer(alaw, dtype=np.uint8)
    return _ALAW_TO_PCM16[codes].tobytes()


def pcm16_to_alaw(pcm16: bytes) -> bytes:
    """Encode PCM16 to G.711 A-law, one byte per sample."""
    return _PCM16_TO_ALAW[_as_samples(pcm16).view(np.uint16)].tobytes()


# --- encodings by name ---------------------------------------------------------------------------


def _identity(data: bytes) -> bytes:
    return data


# G.711 codes straight to the resampler's samples (a fraction of full scale): one lookup.
_G711_TO_FLOAT: dict[str, NDArray[np.float32]] = {
    "mulaw": (_MULAW_TO_PCM16.astype(np.float32) / _FULL_SCALE).astype(np.float32),
    "alaw": (_ALAW_TO_PCM16.astype(np.float32) / _FULL_SCALE).astype(np.float32),
}

_TO_PCM16: dict[str, Callable[[bytes], bytes]] = {
    "pcm16": _identity,
    "mulaw": mulaw_to_pcm16,
    "alaw": alaw_to_pcm16,
}
_FROM_PCM16: dict[str, Callable[[bytes], bytes]] = {
    "pcm16": _identity,
    "mulaw": pcm16_to_mulaw,
    "alaw": pcm16_to_alaw,
}
_SILENCE: dict[str, int] = {"pcm16": 0x00, "mulaw": MULAW_SILENCE, "alaw": ALAW_SILENCE}


def _check_supported(audio_format: AudioFormat) -> None:
    encoding: str = audio_format.encoding
    if encoding not in _TO_PCM16:
        raise UnsupportedAudioFormatError(f"unknown audio encoding {encoding!r}")
    if encoding != "pcm16" and audio_format.sample_rate != 8000:
        raise UnsupportedAudioFormatError(
            f"{encoding} is only defined at 8000 Hz, got {audio_format.sample_rate}"
        )
    if audio_format.sample_rate <= 0:
        raise UnsupportedAudioFormatError(
            f"sample rate must be positive: {audio_format.sample_rate}"
        )


def silence_byte(audio_format: AudioFormat) -> int:
    """The byte value that encodes silence in `audio_format` (pad frames with it)."""
    _check_supported(audio_format)
    return _SILENCE[audio_format.encoding]


# --- levels --------------------------------------------------------------------------------------


# --- resampling ----------------------------------------------------------------------------------


def _lowpass_taps(cutoff_hz: float, transition_hz: float, sample_rate: int) -> NDArray[np.float32]:
    """A Blackman-windowed sinc low-pass (about -74 dB stop band past the transition)."""
    n_taps = math.ceil(5.5 * sample_rate / transition_hz) | 1
    t = np.arange(n_taps) - (n_taps - 1) / 2
    taps = np.sinc(2 * cutoff_hz / sample_rate * t) * np.blackman(n_taps)
    normalised: NDArray[np.float32] = (taps / taps.sum()).astype(np.float32)
    return normalised


class StreamingResampler:
    """Resamples a PCM16 mono stream chunk by chunk, keeping filter state across chunks.

    soxr's "QQ" (cubic) engine is used because it emits output as soon as input arrives: the
    higher soxr qualities hold back 40-115 ms in blocks, which would delay barge-in and first
    audio. When downsampling, a stateful windowed-sinc low-pass (a few ms of delay) runs first
    so speech above the new Nyquist frequency cannot alias back into the band.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive: {in_rate} -> {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._odd_byte = b""
        self._antialias: NDArray[np.float32] | None = None
        if out_rate < in_rate:
            self._antialias = _lowpass_taps(0.45 * out_rate, 0.1 * out_rate, in_rate)
        self.reset()

    @property
    def passthrough(self) -> bool:
        return self.in_rate == self.out_rate

    def reset(self) -> None:
        """Forget all state; the next chunk starts a new, unrelated stream."""
        self._odd_byte = b""
        self._stream = (
            None
            if self.passthrough
            else soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="float32", quality="QQ")
        )
        taps = 0 if self._antialias is None else self._antialias.size
        self._history = np.zeros(max(taps - 1, 0), dtype=np.float32)
        # The low-pass delays by half its length; dropping that much lead-in keeps output aligned.
        self._lead_in = self._history.size // 2

    def resample_chunk(self, pcm16: bytes) -> bytes:
        """Resample the next piece of the stream; an odd trailing byte waits for the next call."""
        data = self._odd_byte + pcm16
        whole = len(data) - len(data) % 2
        self._odd_byte = data[whole:]
        if self.passthrough:
            return data[:whole]
        samples = np.frombuffer(data[:whole], dtype=_PCM16).astype(np.float32) / _FULL_SCALE
        return self._process(samples, last=False)

    def resample_samples(self, samples: NDArray[np.float32]) -> bytes:
        """Resample the next piece of the stream given as samples (fractions of full scale),
        as PCM16; what a G.711 line's converter uses to skip a round trip through PCM16."""
        if self._odd_byte:
            raise ValueError("samples cannot follow a chunk that ended with an odd byte")
        if self.passthrough:
            return _float_to_pcm16(samples)
        return self._process(samples, last=False)

    def flush(self) -> bytes:
        """Emit the samples still held in the filters and start over (end of an utterance)."""
        if self.passthrough:
            self.reset()
            return b""
        # The low-pass delay's worth of extra input brings out the last real sample.
        tail = np.zeros(self._history.size // 2, dtype=np.float32)
        out = self._process(tail, last=True)
        self.reset()
        return out

    def _process(self, samples: NDArray[np.float32], *, last: bool) -> bytes:
        if self._antialias is not None:
            padded = np.concatenate((self._history, samples))
            if self._history.size:
                self._history = padded[-self._history.size :]
            samples = np.convolve(padded, self._antialias, mode="valid").astype(np.float32)
            skipped = min(self._lead_in, samples.size)
            samples = samples[skipped:]
            self._lead_in -= skipped
        assert self._stream is not None
        return _float_to_pcm16(self._stream.resample_chunk(samples, last=last))


def _float_to_pcm16(samples: NDArray[np.float32]) -> bytes:
    """Samples as fractions of full scale to PCM16, rounded and clipped."""
    scaled: NDArray[np.float32] = samples * _FULL_SCALE
    return scaled.round().clip(-32768.0, 32767.0).astype(_PCM16).tobytes()


# --- framing -------------------------------------------------------------------------------------


class FrameSlicer:
    """Accumulates bytes and hands them back as fixed-size frames (e.g. 20 ms)."""

    def __init__(self, frame_bytes: int, silence: int = 0x00) -> None:
        if frame_bytes <= 0:
            raise ValueError(f"frame size must be positive, got {frame_bytes}")
        self.frame_bytes = frame_bytes
        self.silence = silence
        self._buffer = bytearray()

    @classmethod
    def for_format(cls, audio_format: AudioFormat) -> FrameSlicer:
        """A slicer of 20 ms frames of `audio_format`, padding with that format's silence."""
        return cls(audio_format.frame_bytes, silence_byte(audio_format))

    @property
    def pending(self) -> int:
        """Bytes held that do not yet make a whole frame."""
        return len(self._buffer)

    def push(self, data: bytes) -> list[bytes]:
        """Add bytes; return every whole frame now available, in order."""
        self._buffer += data
        size = self.frame_bytes
        whole = len(self._buffer) - len(self._buffer) % size
        frames = [bytes(self._buffer[i : i + size]) for i in range(0, whole, size)]
        del self._buffer[:whole]
        return frames

    def flush(self, pad: bool = False) -> bytes:
        """Return the remainder (padded with silence to a whole frame if `pad`) and empty."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        if pad and rest:
            rest += bytes([self.silence]) * (self.frame_bytes - len(rest))
        return rest


# --- the transport edge --------------------------------------------------------------------------


class InboundConverter:
    """Turns caller audio from the wire (mu-law/A-law 8 kHz, PCM16 any rate) into engine frames.

    Engine frames are PCM16 mono 16 kHz, 20 ms (640 bytes) each.
    """

    def __init__(self, wire_format: AudioFormat) -> None:
        _check_supported(wire_format)
        self.wire_format = wire_format
        self._decode = _TO_PCM16[wire_format.encoding]
        self._to_samples = _G711_TO_FLOAT.get(wire_format.encoding)
        self._resampler = StreamingResampler(wire_format.sample_rate, ENGINE_SAMPLE_RATE)
        self._slicer = FrameSlicer(PCM16_16K.frame_bytes)

    def push(self, data: bytes) -> list[bytes]:
        """Convert the next wire bytes; return the whole 20 ms engine frames now complete."""
        if self._to_samples is not None:  # G.711: codes to samples in one lookup
            samples = self._to_samples[np.frombuffer(data, dtype=np.uint8)]
            return self._slicer.push(self._resampler.resample_samples(samples))
        return self._slicer.push(self._resampler.resample_chunk(self._decode(data)))

    def reset(self) -> None:
        """Drop resampler state and any partial frame."""
        self._resampler.reset()
        self._slicer.flush()


class OutboundEncoder:
    """Converts agent audio (PCM16 at any rate, or G.711 at 8 kHz) to the wire format.

    Implements `app.engine.transport.AudioEncoder`. Audio already in the wire format passes through
    untouched, so nothing is converted twice; otherwise one resampler is kept across chunks (and
    re-created when the input rate changes) so chunk edges do not click.
    """

    def __init__(self, wire_format: AudioFormat) -> None:
        _check_supported(wire_format)
        self.wire_format = wire_format
        self._encode = _FROM_PCM16[wire_format.encoding]
        self._resampler: StreamingResampler | None = None

    def encode(self, chunk: AudioChunk) -> bytes:
        """Return `chunk` in the wire format (possibly a few samples short, held for the next)."""
        if chunk.format == self.wire_format:
            return chunk.data
        _check_supported(chunk.format)
        pcm16 = _TO_PCM16[chunk.format.encoding](chunk.data)
        tail = b""
        if self._resampler is None or self._resampler.in_rate != chunk.format.sample_rate:
            if self._resampler is not None:
                tail = self._resampler.flush()
            self._resampler = StreamingResampler(
                chunk.format.sample_rate, self.wire_format.sample_rate
            )
        return self._encode(tail + self._resampler.resample_chunk(pcm16))

    def flush(self) -> bytes:
        """Return the few samples the resampler still holds (call at the end of an utterance)."""
        if self._resampler is None:
            return b""
        return self._encode(self._resampler.flush())

    def reset(self) -> None:
        """Forget resampler state (after a barge-in the next audio is unrelated)."""
        self._resampler = None

    def level_dbfs(self, frame: bytes) -> float:
        """RMS level of a frame in the wire format, in dBFS."""
        return pcm16_dbfs(self.decode(frame))

    def decode(self, frame: bytes) -> bytes:
        """A wire-format frame as PCM16 at the wire's rate."""
        return _TO_PCM16[self.wire_format.encoding](frame)
