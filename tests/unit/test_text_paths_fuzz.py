"""Whatever text arrives — a request body, a caller's typed message, a value echoed in an error —
it is either refused with a clear error or made safe to store and send (issue 13). Fuzzed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.api.body_limits import InvalidBodyError, strict_json
from app.api.errors import echoable
from app.config.redaction import redact, redact_value
from app.engine.text import clean_text, clean_value

pytestmark = pytest.mark.unit

ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=200)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ANY_TEXT, inner, max_size=5),
    max_leaves=30,
)


def storable(value: object) -> None:
    """What PostgreSQL, SQLite and a UTF-8 JSON response all take."""
    encoded = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    assert b"\x00" not in encoded


@settings(max_examples=400, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_json_or_a_clear_refusal(raw: bytes) -> None:
    refusal = None
    try:
        value = strict_json(raw)
    except InvalidBodyError as error:
        refusal = error.message
    else:
        storable(value)
    assert refusal is None or refusal.strip()


@settings(max_examples=400, deadline=None)
@given(value=JSONISH)
def test_any_json_like_value_is_accepted_only_when_storable(value: object) -> None:
    try:
        raw = json.dumps(value).encode()
    except ValueError:
        return
    try:
        parsed = strict_json(raw)
    except InvalidBodyError:
        return
    storable(parsed)


@settings(max_examples=400, deadline=None)
@given(value=JSONISH)
def test_an_echoed_value_is_always_sendable_and_short(value: object) -> None:
    echoed = echoable(value)
    text = json.dumps(echoed, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")
    assert len(text) < 1200


@settings(max_examples=400, deadline=None)
@given(text=ANY_TEXT)
def test_cleaned_text_always_encodes(text: str) -> None:
    clean_text(text).encode("utf-8")
    json.dumps(clean_value({text: [text]}), ensure_ascii=False).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(prefix=ANY_TEXT, suffix=ANY_TEXT)
def test_a_credential_inside_any_text_is_redacted(prefix: str, suffix: str) -> None:
    key = "gsk_" + "A1b2C3d4E5f6G7h8I9j0"
    for shaped in (f"Authorization: Bearer {key}", f"api_key={key}", key):
        out = redact(f"{prefix} {shaped} {suffix}")
        assert key not in out
    assert key not in json.dumps(redact_value({"error": [f"xi-api-key: {key}"]}))
