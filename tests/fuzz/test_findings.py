"""One regression test per fuzzing finding, each the smallest input that showed it."""

from __future__ import annotations

import json

import pytest

from telephony.convai import server_events

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]


def test_a_lone_surrogate_in_agent_text_still_makes_a_sendable_frame() -> None:
    # Found by test_rendered_text_is_one_sendable_frame: a JSON "\ud800" escape from an LLM or
    # a tool decodes to a lone surrogate, and the frame then failed to encode as UTF-8 on send.
    frame = server_events.render_agent_response("ok \ud800 then", event_id=3)
    frame.encode("utf-8")
    assert json.loads(frame)["agent_response_event"]["agent_response"] == "ok \ufffd then"
