"""Keypad tones as audio: what an IVR's tone detector hears from them."""

from __future__ import annotations

import pytest

from app.engine.keypad_tones import GAP_MS, PAUSE_MS, TONE_MS, keypad_audio
from tests.keypad_listener import heard_keys

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("rate", [8000, 16000])
def test_every_key_is_heard_as_itself(rate: int) -> None:
    keys = "0123456789*#ABCD"
    assert heard_keys(keypad_audio(keys, rate), rate) == keys


def test_the_same_key_twice_is_heard_twice() -> None:
    assert heard_keys(keypad_audio("55", 8000), 8000) == "55"


def test_w_is_a_half_second_pause() -> None:
    with_pause = len(keypad_audio("1w2", 8000))
    without = len(keypad_audio("12", 8000))
    assert with_pause - without == 8000 * PAUSE_MS // 1000 * 2
    assert without == 2 * 8000 * (TONE_MS + GAP_MS) // 1000 * 2


def test_a_key_the_keypad_has_not_is_refused() -> None:
    with pytest.raises(ValueError, match="not a keypad key"):
        keypad_audio("1x", 8000)
