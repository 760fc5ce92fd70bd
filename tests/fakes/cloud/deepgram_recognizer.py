"""How the Deepgram double hears: audio level turned into Deepgram's live messages
(`Results` interims and finals, `SpeechStarted`, `UtteranceEnd`, `Metadata`), in audio time.
See `tests.fakes.cloud.deepgram`."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tests.fakes.cloud.deepgram import DeepgramScript

BYTES_PER_MS = 32  # PCM16 mono at 16 kHz
VOICED_DBFS = -45.0


class Recognizer:
    """Turns audio level into Deepgram's messages, in audio time."""

    def __init__(self, script: DeepgramScript, query: dict[str, str], request_id: str) -> None:
        self._script = script
        self._utterances = list(script.utterances)
        self._endpointing_ms = int(query.get("endpointing", "10"))
        self._utterance_end_ms = int(query.get("utterance_end_ms", "0")) or None
        self._vad_events = query.get("vad_events") == "true"
        self._request_id = request_id
        self._clock_ms = 0
        self._words: list[str] = []
        self._heard_ms = 0
        self._quiet_ms = 0
        self._shown = 0
        self._pending = False  # words heard that no final has carried yet
        self._last_word_end_ms: int | None = None
        self.utterances_heard = 0

    def audio(self, frame: bytes) -> list[dict[str, Any]]:
        duration = len(frame) // BYTES_PER_MS
        start = self._clock_ms
        self._clock_ms += duration
        samples = np.frombuffer(frame[: len(frame) // 2 * 2], dtype="<i2").astype(np.float64)
        rms = math.sqrt(float(np.mean(samples**2))) if samples.size else 0.0
        voiced = rms > 0 and 20 * math.log10(rms / 32768) > VOICED_DBFS
        out: list[dict[str, Any]] = []
        if voiced:
            if not self._pending:
                self.utterances_heard += 1
                self._words = (self._utterances.pop(0) if self._utterances else "mm").split()
                self._heard_ms = self._shown = 0
                self._pending = True
                if self._vad_events:
                    out.append(self._speech_started(start))
            self._heard_ms += duration
            self._quiet_ms = 0
            every = self._script.interim_every_ms
            if self._heard_ms // every > (self._heard_ms - duration) // every:
                self._shown = min(len(self._words), self._shown + 1)
                out.append(self._results(" ".join(self._words[: self._shown]), is_final=False))
            return out
        self._quiet_ms += duration
        if self._pending and self._quiet_ms >= self._endpointing_ms:
            out.append(self._final(speech_final=self._script.speech_final))
        if (
            self._utterance_end_ms is not None
            and self._last_word_end_ms is not None
            and self._clock_ms - self._last_word_end_ms >= self._utterance_end_ms
        ):
            out.append(
                {
                    "type": "UtteranceEnd",
                    "channel": [0, 1],
                    "last_word_end": self._last_word_end_ms / 1000,
                }
            )
            self._last_word_end_ms = None
        return out

    def finalize(self) -> dict[str, Any]:
        if self._pending:
            return self._final(speech_final=False, from_finalize=True)
        return self._results("", is_final=True, from_finalize=True)

    def flush(self) -> list[dict[str, Any]]:
        return [self._final(speech_final=False)] if self._pending else []

    def metadata(self) -> dict[str, Any]:
        return {
            "type": "Metadata",
            "transaction_key": "deprecated",
            "request_id": self._request_id,
            "sha256": "0" * 64,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "duration": self._clock_ms / 1000,
            "channels": 1,
            "models": ["1abfe86b-e047-4eed-858a-35e5625b41ee"],
            "model_info": {
                "1abfe86b-e047-4eed-858a-35e5625b41ee": {
                    "name": "2-general-nova",
                    "version": "2024-01-06.5664",
                    "arch": "nova-3",
                }
            },
        }

    def _final(self, *, speech_final: bool, from_finalize: bool = False) -> dict[str, Any]:
        self._pending = False
        self._last_word_end_ms = self._clock_ms - self._quiet_ms
        text = " ".join(self._words)
        return self._results(
            text, is_final=True, speech_final=speech_final, from_finalize=from_finalize
        )

    def _speech_started(self, start_ms: int) -> dict[str, Any]:
        return {"type": "SpeechStarted", "channel": [0, 1], "timestamp": start_ms / 1000}

    def _results(
        self,
        text: str,
        *,
        is_final: bool,
        speech_final: bool = False,
        from_finalize: bool = False,
    ) -> dict[str, Any]:
        words = text.split()
        span = self._heard_ms / 1000 / max(len(words), 1)
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": self._heard_ms / 1000,
            "start": max(self._clock_ms - self._heard_ms - self._quiet_ms, 0) / 1000,
            "is_final": is_final,
            "speech_final": speech_final,
            "channel": {
                "alternatives": [
                    {
                        "transcript": text,
                        "confidence": 0.98 if words else 0.0,
                        "words": [
                            {
                                "word": word,
                                "start": round(i * span, 3),
                                "end": round((i + 1) * span, 3),
                                "confidence": 0.98,
                                "punctuated_word": word,
                            }
                            for i, word in enumerate(words)
                        ],
                    }
                ]
            },
            "metadata": {
                "request_id": self._request_id,
                "model_info": {"name": "2-general-nova", "version": "2024-01-06", "arch": "nova-3"},
                "model_uuid": "1abfe86b-e047-4eed-858a-35e5625b41ee",
            },
            "from_finalize": from_finalize,
        }
